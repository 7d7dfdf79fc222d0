"""Drafting and issuing notices. Services flush; the caller commits once.

Issuing freezes everything the notice shows: the report JSON (without free-text comments), the
formatted view-model, and the DOCX and PDF bytes. Downloads of an issued notice always serve those
stored bytes, so later imports cannot change a published number.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices import fingerprint
from aggregator.notices.docx_render import render_docx
from aggregator.notices.hierarchy import reporting_parent
from aggregator.notices.html_render import render_html
from aggregator.notices.pdf_render import docx_to_pdf, soffice_binary
from aggregator.notices.qr import notice_url, public_url
from aggregator.notices.template import template_for
from aggregator.notices.viewmodel import NoticeView, build_view, view_from_dict
from aggregator.notices.vnformat import date_short
from sipas.audit import audit
from sipas.catalogue import Catalogue
from sipas.clock import Period, local_date, period_words
from sipas.errors import DomainError, ValidationError
from sipas.models import Unit
from sipas.settings import Settings

log = logging.getLogger(__name__)
FORMATS = ("docx", "pdf", "html")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html",  # Werkzeug adds "; charset=utf-8" to text/* itself
}


class NumberTaken(ValidationError):
    code = "notice_number_taken"
    http_status = 409


class AlteredFile(DomainError):
    """A stored DOCX or PDF whose bytes no longer give the SHA-256 published with its notice."""

    code = "notice_file_altered"
    http_status = 500


def compute_report(session: Session, catalogue: Catalogue, unit: Unit, period: Period, *, settings: Settings,
                   now: datetime) -> dict[str, Any]:
    """The live figures of ``unit`` (and the units below it) for ``period``."""
    from aggregator.service import unit_report

    return unit_report(session, catalogue, unit, period, tz=settings.tz, now=now)


def frozen_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report as stored with an issued notice: aggregates only, no free-text comments."""
    return {key: value for key, value in report.items() if key != "comments"}


def notice_view(session: Session, unit: Unit, report: dict[str, Any], *, settings: Settings, number: int | None,
                issue_date: date, corrects: Notice | None = None) -> NoticeView:
    """The view; a numbered notice's QR and printed address lead to its own public page (issue 11 §5)."""
    period_end = date.fromisoformat(report["to"]) if report.get("to") else issue_date
    parent = reporting_parent(unit, period_end, lambda u: session.get(Unit, u.parent_id) if u.parent_id else None)
    replaces = f"số {corrects.number_label} ngày {date_short(corrects.issue_date)}" if corrects else ""
    address = public_url(settings.public_base_url, unit.code) if number is None else \
        notice_url(settings.public_base_url, unit.code, issue_date.year, number)
    return build_view(report, unit, template_for(unit, settings.config_dir), number_=number, issue_date=issue_date,
                      public_url=address,
                      parent_name=parent.name if parent else "", replaces=replaces)


def render(view: NoticeView, fmt: str, settings: Settings) -> bytes:
    """``fmt`` is docx, pdf or html; PDF raises ``PdfError`` when LibreOffice fails or is missing."""
    if fmt == "docx":
        return render_docx(view)
    if fmt == "pdf":
        return pdf_of(render_docx(view), settings)
    if fmt == "html":
        return render_html(view).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")


def pdf_dir(settings: Settings) -> Path:
    """Lock files, job files and PDF cache in the instance folder, shared by every worker process of the host."""
    return settings.instance_dir / "pdf"


def pdf_of(docx: bytes, settings: Settings) -> bytes:
    """The PDF of a notice DOCX: cached, one LibreOffice at a time per host, ``PdfBusy`` when the queue is full."""
    folder = pdf_dir(settings)
    return docx_to_pdf(docx, soffice=soffice_binary(settings.env), lock_dir=folder, cache_dir=folder / "cache")


def next_number(session: Session, unit: Unit, year: int) -> int:
    """The number to suggest: one more than the highest issued by the unit in ``year``."""
    highest = session.scalar(select(func.max(Notice.number)).where(Notice.unit_id == unit.id, Notice.year == year))
    return (highest or 0) + 1


@dataclass(frozen=True)
class IssueRequest:
    period: Period
    number: int
    issue_date: date
    corrects_id: int | None = None


def issue_notice(session: Session, unit: Unit, report: dict[str, Any], request: IssueRequest, *,
                 settings: Settings, actor: str, now: datetime) -> Notice:
    """Number, render and store a notice; the (unit, year, number) unique constraint refuses reuse."""
    notice = prepare_notice(session, unit, report, request, settings=settings, actor=actor, now=now)
    notice.pdf = pdf_of(notice.docx, settings)
    return store_notice(session, unit, notice)


def prepare_notice(session: Session, unit: Unit, report: dict[str, Any], request: IssueRequest, *,
                   settings: Settings, actor: str, now: datetime) -> Notice:
    """Check the request, freeze the figures and render the DOCX: reads only, nothing added to the session.

    A web request ends its transaction after this, so the slow PDF conversion holds no database
    lock (SQLite takes the write lock at BEGIN), then fills ``pdf`` and calls ``store_notice``.
    """
    if not 1 <= request.number <= 9999:
        raise ValidationError("Số thông báo phải từ 1 đến 9999.", field="number")
    check_dates(request.period, request.issue_date, today=local_date(now, settings.tz))
    corrects = replaced_notice(session, unit, request.period, request.corrects_id)
    frozen = frozen_report(report)
    view = notice_view(session, unit, frozen, settings=settings, number=request.number,
                       issue_date=request.issue_date, corrects=corrects)
    if not view.signatory_name.strip():  # frozen with the notice: an empty line under the title is not signed
        raise ValidationError("Chưa có họ và tên người ký. Nhập ở trang Nội dung thông báo (mục Người ký) hoặc "
                              "trong thông tin đơn vị, rồi ban hành.", field="signatory_name",
                              detail="the unit has no signatory name")
    return Notice(unit_id=unit.id, year=request.issue_date.year, number=request.number,
                  period_start=request.period.start, period_end=request.period.end, issue_date=request.issue_date,
                  report=frozen, content=dataclasses.asdict(view), docx=render_docx(view), pdf=b"", issued_by=actor,
                  issued_at=now, corrects_id=corrects.id if corrects else None)


def check_dates(period: Period, issue_date: date, *, today: date) -> None:
    """A notice is issued once its period has come to its last day, dated between that day and today.

    Issued earlier, its figures would stop part-way through the period; dated after today (a typo of
    the year), it would be numbered in a year not yet begun.
    """
    if today < period.end:
        raise ValidationError("Kỳ báo cáo chưa kết thúc: chỉ ban hành được từ ngày cuối kỳ "
                              f"({date_short(period.end)}).", field="period")
    if issue_date < period.end:
        raise ValidationError("Ngày ban hành không được trước ngày cuối của kỳ báo cáo.", field="issue_date")
    if issue_date > today:
        raise ValidationError(f"Ngày ban hành {date_short(issue_date)} là sau hôm nay ({date_short(today)}): không "
                              "ban hành thông báo đề ngày chưa tới. Kiểm tra lại ngày ban hành.", field="issue_date")


def replaced_notice(session: Session, unit: Unit, period: Period, corrects_id: int | None) -> Notice | None:
    """The notice that a new notice of ``period`` replaces; None for the period's first notice.

    A period has one current notice: the first, then each correction in turn. A second notice must
    correct the current one (same unit, same period, not corrected already), so the chain stays
    linear: 01 ← 02 ← 03, never two notices standing as the ward's figures of one period.
    """
    notices = issued_notices(session, unit)  # newest first
    issued = [n for n in notices if (n.period_start, n.period_end) == (period.start, period.end)]
    corrected = {n.corrects_id for n in notices if n.corrects_id is not None}
    current = [n for n in issued if n.id not in corrected]
    if corrects_id is None:
        if issued:
            latest = (current or issued)[0]
            raise ValidationError(f"Kỳ báo cáo {period_words(period.start, period.end)} đã có Thông báo số "
                                  f"{latest.number_label} ngày {date_short(latest.issue_date)}: chỉ ban hành thêm "
                                  "thông báo đính chính, thay thế thông báo đó.", field="corrects")
        return None
    corrects = session.get(Notice, corrects_id)
    if corrects is None or corrects.unit_id != unit.id:
        raise ValidationError("Thông báo được đính chính không thuộc đơn vị này.", field="corrects")
    if corrects not in issued:
        raise ValidationError(f"Thông báo số {corrects.number_label} là kết quả "
                              f"{period_words(corrects.period_start, corrects.period_end)}, không phải "
                              f"{period_words(period.start, period.end)}: thông báo đính chính phải cùng kỳ báo cáo "
                              "với thông báo được thay thế.", field="corrects")
    if corrects not in current:
        labels = ", ".join(n.number_label for n in current)
        raise ValidationError(f"Thông báo số {corrects.number_label} đã được đính chính: chỉ đính chính thông báo "
                              "hiện hành của kỳ" + (f" (số {labels})." if labels else "."), field="corrects")
    return corrects


def store_notice(session: Session, unit: Unit, notice: Notice) -> Notice:
    """Insert a prepared notice whose PDF is filled in, and audit it."""
    if not notice.pdf:
        raise ValueError("a notice is stored with its PDF")
    # Checked again in this transaction: another notice of the period may have been stored while the PDF
    # converted. The unit's row lock makes two issues of one unit take turns on PostgreSQL (a SQLite
    # transaction holds the write lock from BEGIN).
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    replaced_notice(session, unit, Period(notice.period_start, notice.period_end), notice.corrects_id)
    fingerprint.stamp(notice)
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:
        raise NumberTaken(f"Số {notice.number_label} năm {notice.year} đã được dùng cho một thông báo khác của "
                          "đơn vị.", field="number") from None
    corrects = session.get(Notice, notice.corrects_id) if notice.corrects_id else None
    audit(session, "notice.issued", actor=notice.issued_by, unit=unit, subject=notice.number_label,
          year=notice.year, period=[notice.period_start.isoformat(), notice.period_end.isoformat()],
          corrects=corrects.number_label if corrects else None)
    log.info("notice %s/%s issued for unit %s", notice.number_label, notice.year, unit.code)
    return notice


def issued_view(notice: Notice) -> NoticeView:
    """The frozen view-model of an issued notice (for its HTML version)."""
    return view_from_dict(notice.content)


def issued_bytes(notice: Notice, fmt: str) -> bytes:
    """The stored DOCX or PDF, checked against the SHA-256 its public page publishes; HTML from the frozen content.

    Bytes that no longer match (a damaged row, a restore gone wrong, a hand edit) raise ``AlteredFile``: they
    are never served as the issued notice. A SHA-256 of a few hundred kilobytes costs about a millisecond.
    """
    if fmt == "html":
        return render_html(issued_view(notice)).encode("utf-8")
    data, published = (notice.docx, notice.docx_sha256) if fmt == "docx" else (notice.pdf, notice.pdf_sha256)
    if fingerprint.sha256(data) != published:
        log.error("notice %s/%s of unit %s: the stored %s no longer matches its published SHA-256 %s; restore it "
                  "from a backup", notice.number_label, notice.year, notice.unit_id, fmt.upper(), published)
        raise AlteredFile(f"Tệp {fmt.upper()} của Thông báo số {notice.number_label} đã lưu không còn khớp với mã "
                          "SHA-256 đã công bố, nên không được cung cấp: tệp đã bị thay đổi sau khi ban hành. Đơn vị "
                          "ban hành cần khôi phục dữ liệu từ bản sao lưu; trong lúc chờ, vui lòng dùng bản đã ban "
                          "hành lưu tại đơn vị.", detail=f"stored {fmt} differs from its sha256")
    return data


def issued_with_number(session: Session, unit: Unit, number: int, *, year: int | None = None) -> list[Notice]:
    """The unit's issued notices numbered ``number`` (one per year of issue), in ``year`` if given."""
    stmt = select(Notice).where(Notice.unit_id == unit.id, Notice.number == number)
    if year is not None:
        stmt = stmt.where(Notice.year == year)
    return list(session.scalars(stmt.order_by(Notice.year)))


def issued_notices(session: Session, unit: Unit) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.unit_id == unit.id)
                                .order_by(Notice.issue_date.desc(), Notice.number.desc())))


def corrected_by(session: Session, notice: Notice) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.corrects_id == notice.id).order_by(Notice.number)))


def file_name(unit: Unit, period: Period, fmt: str, *, number: int | None = None, year: int | None = None) -> str:
    stem = f"thong-bao-{number:02d}-{year}" if number is not None else "du-thao-thong-bao"
    return f"{stem}-{unit.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
