"""Console pages of the quarterly notice: preview, draft downloads, issuing and the issued list."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from aggregator.models_notices import Notice
from aggregator.notices import pdf_jobs, service
from aggregator.notices.docx_render import render_docx
from aggregator.notices.html_render import notice_context
from aggregator.notices.pdf_render import PdfBusy, RenderError, soffice_binary
from aggregator.notices.public import altered_file_page
from aggregator.notices.template import TemplateError
from aggregator.notices.vnformat import ROMAN_QUARTERS, date_short
from aggregator.params import PERIOD_KINDS, PeriodError, parse_day, parse_period, period_values, picker_choices
from sipas.audit_text import full_names, who
from sipas.clock import Period, local_date, utcnow
from sipas.console.auth import actor_name, allowed_units, current_user, login_required, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_catalogue, get_settings
from sipas.errors import DomainError, ValidationError
from sipas.models import Role, Unit
from sipas.storage import db_session

bp = Blueprint("notices", __name__, url_prefix="/console/thong-bao", template_folder="../templates")
ISSUERS = (Role.ADMIN, Role.CLERK)


def default_unit() -> Unit:
    user = current_user()
    units = allowed_units()
    if not units:
        abort(404)
    return (user.units if user is not None and user.units else units)[0]


def default_period(today: date, issued: set[tuple[date, date]] | None = None) -> Period:
    """The quarter a clerk most likely prints.

    In a quarter's last month, that quarter (ballot boxes are opened then); otherwise the quarter
    just ended, unless its notice was already issued, then the current one.
    """
    current = Period.containing_quarter(today)
    if today.month in (3, 6, 9, 12):
        return current
    previous = Period.containing_quarter(current.start - timedelta(days=1))
    return current if (previous.start, previous.end) in (issued or set()) else previous


def selection(args: MultiDict[str, str]) -> tuple[Unit, Period]:
    """The unit (404 unless the user's) and the period: ``quarter=2023Q1`` or ``from``/``to``."""
    unit = unit_for_user(args["unit"]) if args.get("unit") else default_unit()
    today = local_date(utcnow(), get_settings().tz)
    _kind, values = period_values(args, args.get("kind"))  # without a kind, a quarter wins over dates
    if not any(values.values()):
        return unit, default_period(today, _issued_periods(unit))
    try:
        return unit, parse_period(today=today, **values)
    except PeriodError as exc:
        flash(str(exc), "error")
        return unit, default_period(today, _issued_periods(unit))


def _issued_periods(unit: Unit) -> set[tuple[date, date]]:
    return {(n.period_start, n.period_end) for n in service.issued_notices(db_session(), unit)}


def period_args(unit: Unit, period: Period) -> dict[str, str]:
    return {"unit": unit.code, "from": period.start.isoformat(), "to": period.end.isoformat()}


def quarter_choices(today: date, count: int = 8) -> list[tuple[str, str]]:
    """The last ``count`` quarters as (code, label), newest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    result = []
    for _ in range(count):
        result.append((f"{year}Q{quarter}", f"Quý {ROMAN_QUARTERS[quarter]} năm {year}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return result


def period_kind(period: Period) -> str:
    """How the picker shows a period: the calendar quarter, month or year it is, else a range of days."""
    start = period.start
    if period == Period.year(start.year):
        return "year"
    if quarter_code(period):
        return "quarter"
    return "month" if period == Period.month(start.year, start.month) else "range"


def quarter_code(period: Period) -> str:
    """``2023Q1`` when the period is exactly a calendar quarter, else ""."""
    code = f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"
    return code if Period.parse_quarter(code) == period else ""


def suggested_issue_date(period: Period, today: date) -> date:
    return max(today, period.end)


def _draft(unit: Unit, period: Period) -> tuple[dict[str, Any], Any]:
    settings = get_settings()
    now = utcnow()
    session = db_session()
    report = service.compute_report(session, get_catalogue(), unit, period, settings=settings, now=now)
    today = local_date(now, settings.tz)  # a draft is dated the day it is printed
    return report, service.notice_view(session, unit, report, settings=settings, number=None, issue_date=today)


@bp.get("/", endpoint="index")
@login_required
def index() -> ResponseReturnValue:
    """Preview of the selected quarter's notice with draft downloads, the issue form and issued notices."""
    unit, period = selection(request.args)
    today = local_date(utcnow(), get_settings().tz)
    try:
        report, view = _draft(unit, period)
    except TemplateError as exc:
        flash(f"Mẫu thông báo có lỗi: {exc}", "error")
        return redirect(url_for("notices.wording", unit=unit.code))
    session = db_session()
    issued = service.issued_notices(session, unit)
    issue_date = suggested_issue_date(period, today)
    # Once the period has an issued notice, the page shows that notice (numbered, frozen), not a draft of it.
    shown = next((n for n in issued if (n.period_start, n.period_end) == (period.start, period.end)), None)
    if shown is not None:
        view = service.issued_view(shown)
    names = full_names(session, (n.issued_by for n in issued))
    return render_template(
        "notices/console.html", unit=unit, units=allowed_units(), period=period, args=period_args(unit, period),
        quarters=quarter_choices(today), period_quarter=quarter_code(period), report=report,
        kinds=PERIOD_KINDS, choices=picker_choices(today), kind=period_kind(period),
        issued=issued, issue_date=issue_date, next_number=service.next_number(session, unit, issue_date.year),
        can_issue=current_user().role in ISSUERS, unfinished=period.end >= today,  # type: ignore[union-attr]
        shown=shown, issuers={n.id: who(n.issued_by, names) for n in issued},
        **notice_context(view),
    )


@bp.get("/du-thao.<fmt>", endpoint="draft")
@login_required
def draft(fmt: str) -> ResponseReturnValue:
    """The draft (unnumbered, marked DỰ THẢO) as DOCX, PDF or HTML, computed from the current figures."""
    if fmt not in service.FORMATS:
        abort(404)
    unit, period = selection(request.args)
    _report, view = _draft(unit, period)
    db_session().rollback()  # read-only: release the database during the rendering
    settings = get_settings()
    try:
        if fmt == "pdf":  # converted in the background: this worker only renders the DOCX
            key = pdf_jobs.submit(render_docx(view), service.pdf_dir(settings), soffice_binary(settings.env))
            return _pdf_or_progress(key, service.file_name(unit, period, fmt), period_args(unit, period))
        data = service.render(view, fmt, settings)
    except PdfBusy as exc:  # the host's PDF queue is full: say so now rather than hold a worker
        return busy(exc)
    except RenderError as exc:  # LibreOffice or the chart drawing failed
        flash(exc.message_vi, "error")
        return redirect(url_for("notices.index", **period_args(unit, period)))
    return _download(data, fmt, service.file_name(unit, period, fmt))


def _pdf_or_progress(key: str, name: str, args: dict[str, str]) -> ResponseReturnValue:
    """The PDF when its conversion is done, else a page that follows the conversion and then downloads it."""
    data = pdf_jobs.cached_pdf(service.pdf_dir(get_settings()), key)
    if data is not None:
        return _download(data, "pdf", name)
    return render_template("notices/pdf_progress.html", key=key, name=name, args=args)


@bp.get("/pdf/<key>.json", endpoint="pdf_status")
@login_required
def pdf_status(key: str) -> ResponseReturnValue:
    """Where a background PDF conversion stands: ``queued`` (with ``ahead``), ``ready`` or ``failed``."""
    settings = get_settings()
    state = pdf_jobs.status(service.pdf_dir(settings), key)
    if state is None:
        return {"error": "pdf_job_not_found", "message": "Không tìm thấy yêu cầu tạo PDF này."}, 404
    if state["state"] == "queued":  # the worker process that took the job may have been restarted since
        pdf_jobs.ensure_worker(service.pdf_dir(settings), soffice_binary(settings.env))
    return state, 200, {"Cache-Control": "no-store"}


@bp.get("/pdf/<key>.pdf", endpoint="pdf_file")
@login_required
def pdf_file(key: str) -> ResponseReturnValue:
    """A converted draft PDF, by its content key (known only to whoever rendered that draft)."""
    data = pdf_jobs.cached_pdf(service.pdf_dir(get_settings()), key)
    if data is None:
        abort(404)
    name = request.args.get("name", "")
    return _download(data, "pdf", name if re.fullmatch(r"[A-Za-z0-9._-]{1,120}", name) else "thong-bao.pdf")


def busy(exc: PdfBusy) -> Response:
    """503 with ``Retry-After`` and the reason in Vietnamese."""
    return Response(exc.message_vi, status=503, mimetype="text/plain",
                    headers={"Retry-After": str(exc.retry_after), "Cache-Control": "no-store"})


def _download(data: bytes, fmt: str, name: str) -> Response:
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(data, mimetype=service.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"', "Cache-Control": "no-store"})


def _parse_issue_form(form: MultiDict[str, str]) -> tuple[int, date, int | None]:
    try:
        number = int(form.get("number", "").strip())
    except ValueError:
        raise ValidationError("Số thông báo phải là số nguyên, ví dụ 3.", field="number") from None
    try:
        issue_date = parse_day(form.get("issue_date", ""), "ngày ban hành")  # 06/4/2026 or 2026-04-06
    except PeriodError as exc:
        raise ValidationError(str(exc), field="issue_date") from None
    corrects = form.get("corrects", "").strip()
    return number, issue_date, int(corrects) if corrects.isdigit() else None


@bp.post("/ban-hanh", endpoint="issue")
@roles_required(*ISSUERS)
def issue() -> ResponseReturnValue:
    """Issue the notice with a number: the figures, wording and documents are frozen from now on."""
    unit, period = selection(request.form)
    session = db_session()
    settings = get_settings()
    now: datetime = utcnow()
    try:
        number, issue_date, corrects = _parse_issue_form(request.form)
        report = service.compute_report(session, get_catalogue(), unit, period, settings=settings, now=now)
        notice = service.prepare_notice(session, unit, report,
                                        service.IssueRequest(period, number, issue_date, corrects),
                                        settings=settings, actor=actor_name(), now=now)
        session.rollback()  # nothing written yet
        folder = service.pdf_dir(settings)
        key = pdf_jobs.submit(notice.docx, folder, soffice_binary(settings.env))
        pdf = pdf_jobs.cached_pdf(folder, key)
        if pdf is None:  # converted in the background; the page posts this form again once the PDF is ready
            return render_template("notices/pdf_progress.html", key=key, name="", args=period_args(unit, period),
                                   resubmit=request.form)
        notice.pdf = pdf  # the conversion of a DOCX with exactly this content
        service.store_notice(session, unit, notice)
    except (DomainError, RenderError, TemplateError) as exc:
        session.rollback()
        refuse(getattr(exc, "message_vi", str(exc)), getattr(exc, "field", None))
        return redirect(url_for("notices.index", **period_args(unit, period)))
    session.commit()
    flash(f"Đã ban hành Thông báo số {notice.number_label} ngày {date_short(issue_date)}; số liệu đã được chốt.",
          "success")
    return redirect(url_for("notices.index", **period_args(unit, period)))


@bp.get("/da-ban-hanh/<int:notice_id>.<fmt>", endpoint="issued")
@login_required
def issued(notice_id: int, fmt: str) -> ResponseReturnValue:
    """An issued notice exactly as it was issued."""
    notice = db_session().get(Notice, notice_id)
    if notice is None or fmt not in service.FORMATS:
        abort(404)
    unit = unit_for_user(notice.unit.code)
    period = Period(notice.period_start, notice.period_end)
    name = service.file_name(unit, period, fmt, number=notice.number, year=notice.year)
    try:
        return _download(service.issued_bytes(notice, fmt), fmt, name)
    except service.AlteredFile as exc:
        return altered_file_page(exc)
