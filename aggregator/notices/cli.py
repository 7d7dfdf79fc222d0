"""``sipas notice``: write a unit's notice for a period as DOCX, PDF or HTML (and optionally issue it)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices import fingerprint, service
from aggregator.notices.pdf_render import RenderError
from aggregator.notices.template import TemplateError
from aggregator.params import PeriodError, parse_day, parse_period
from sipas.cli_context import Context, pass_context
from sipas.clock import Period, local_date, period_words, utcnow
from sipas.errors import DomainError
from sipas.models import Unit
from sipas.units import get_unit


@click.group("notice", invoke_without_command=True)
@click.option("--unit", "unit_code", help="Mã đơn vị (bắt buộc khi in thông báo).")
@click.option("--quarter", help="Quý, ví dụ 2023Q1.")
@click.option("--from", "start", help="Từ ngày: 31/12/2026 hoặc 2026-12-31, cùng với --to.")
@click.option("--to", "end", help="Đến ngày: 31/12/2026 hoặc 2026-12-31.")
@click.option("--number", type=click.IntRange(1, 9999),
              help="Số thông báo: in lại bản đã ban hành (hoặc ban hành, với --issue); bỏ trống để in bản dự thảo.")
@click.option("--year", type=click.IntRange(2000, 2100),
              help="Năm ban hành của thông báo số --number cần in lại (số đánh theo năm ban hành).")
@click.option("--date", "issue_day",
              help="Ngày ban hành: 31/12/2026 hoặc 2026-12-31, từ ngày cuối kỳ đến hôm nay; mặc định hôm nay "
                   "(bản dự thảo: ngày cuối kỳ nếu kỳ chưa kết thúc).")
@click.option("--format", "fmt", type=click.Choice(service.FORMATS), default="pdf", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp kết quả (bắt buộc khi in thông báo).")
@click.option("--issue", is_flag=True, help="Ban hành (chốt số liệu, lưu DOCX/PDF) với số đã cho.")
@click.option("--corrects", "corrects_label", metavar="SỐ[/NĂM]",
              help="Cùng --issue: đính chính (thay thế) thông báo hiện hành của kỳ, theo số và năm ban hành của "
                   "nó, ví dụ 3/2026.")
@pass_context
def notice(ctx: Context, unit_code: str | None, quarter: str | None, start: str | None, end: str | None,
           number: int | None, year: int | None, issue_day: str | None, fmt: str, output: Path | None,
           issue: bool, corrects_label: str | None) -> None:
    """Thông báo kết quả đánh giá của một đơn vị (DOCX, PDF hoặc HTML).

    Không có --number: bản dự thảo (ghi DỰ THẢO, chưa có số) tính từ số liệu hiện tại. Chỉ có --number: in lại
    đúng từng byte thông báo đã ban hành mang số đó (tìm theo năm ban hành --year hoặc --date, hoặc theo kỳ báo
    cáo); báo lỗi nếu chưa ban hành số đó. --number cùng --issue: ban hành thông báo mới (kỳ đã có thông báo: thêm
    --corrects SỐ/NĂM của thông báo được thay thế). Kiểm tra một tệp có phải thông báo đã ban hành không: sipas
    notice verify TỆP.
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    if not unit_code or output is None:
        raise click.UsageError("Cần --unit và -o/--output (hoặc dùng: sipas notice verify TỆP).")
    settings = ctx.settings
    now = utcnow()
    today = local_date(now, settings.tz)
    if issue and number is None:
        raise click.UsageError("--issue cần --number.")
    if year is not None and number is None:
        raise click.UsageError("--year chỉ dùng cùng --number.")
    if corrects_label is not None and not issue:
        raise click.UsageError("--corrects chỉ dùng cùng --issue.")
    given_period = bool(quarter or start or end)
    try:
        period = parse_period(start=start, end=end, quarter=quarter, today=today)
        issue_date = parse_day(issue_day, "ngày ban hành") if issue_day else None
    except (PeriodError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if issue and year is not None and year != (issue_date or max(today, period.end)).year:
        raise click.UsageError("Số thông báo đánh theo năm ban hành: --year phải trùng năm của ngày ban hành.")
    prepared: Notice | None = None
    try:
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code)
            if number is not None and not issue:
                found = issued_notice(session, unit, number, year=year or (issue_date.year if issue_date else None),
                                      period=period if given_period else None)
                data = service.issued_bytes(found, fmt)
                click.echo(f"Thông báo số {found.number_label} năm {found.year} đã ban hành: ghi đúng bản đã chốt.",
                           err=True)
            else:
                issue_date = issue_date or max(today, period.end)
                report = service.compute_report(session, ctx.catalogue(), unit, period, settings=settings, now=now)
                if issue:  # as the console: check and render, end the transaction, convert, then store
                    corrects = corrected_notice(session, unit, corrects_label) if corrects_label else None
                    prepared = service.prepare_notice(session, unit, report,
                                                      service.IssueRequest(period, number or 0, issue_date,
                                                                           corrects.id if corrects else None),
                                                      settings=settings, actor="cli", now=now)
                    session.rollback()  # reads only: no database lock is held while LibreOffice converts
                else:
                    view = service.notice_view(session, unit, report, settings=settings, number=None,
                                               issue_date=issue_date)
                    data = service.render(view, fmt, settings)
        if prepared is not None:
            data = _issue(ctx, prepared, fmt)
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from None
    except (RenderError, TemplateError) as exc:
        raise click.ClickException(str(exc)) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    click.echo(f"Đã ghi {output} ({len(data):,} byte).".replace(",", "."))


@notice.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def verify(ctx: Context, file: Path) -> None:
    """Kiểm tra một tệp có giống hệt (từng byte) bản DOCX/PDF của một thông báo đã ban hành không.

    Mã thoát 0 và in tên thông báo khi trùng khớp; 1 khi không (tệp lớn hơn nhiều so với mọi thông báo thì
    không được đọc).
    """
    ctx.quiet = True  # the answer is the output: no database line
    if file.stat().st_size > fingerprint.MAX_VERIFY_BYTES:
        click.echo(f"Không trùng khớp: {file} quá lớn để là một thông báo đã ban hành.", err=True)
        raise SystemExit(1)
    data = file.read_bytes()
    with ctx.database.session() as session:
        match = fingerprint.find_issued(session, data)
        if match is None:
            click.echo(f"Không trùng khớp: {file} không giống hệt bản DOCX hay PDF của thông báo nào đã ban hành "
                       f"(SHA-256 {fingerprint.sha256(data)}).", err=True)
            raise SystemExit(1)
        found = match.notice
        click.echo(f"Trùng khớp: {fingerprint.describe(match)}, kết quả "
                   f"{period_words(found.period_start, found.period_end)}; SHA-256 {fingerprint.sha256(data)}.")


def _issue(ctx: Context, prepared: Notice, fmt: str) -> bytes:
    """Convert a prepared notice outside any transaction (the converter's host lock and PDF cache are the
    console queue's), then store it in a short transaction of its own."""
    prepared.pdf = service.pdf_of(prepared.docx, ctx.settings)
    with ctx.database.session() as session:
        issued = service.store_notice(session, session.get_one(Unit, prepared.unit_id), prepared)
        data = service.issued_bytes(issued, fmt)
    click.echo(f"Đã ban hành Thông báo số {issued.number_label}.", err=True)
    return data


def corrected_notice(session: Session, unit: Unit, label: str) -> Notice:
    """The issued notice ``--corrects`` names: ``3`` or ``03`` (when one year has it) or ``3/2026``; the service
    then checks that it is the period's current notice."""
    found = re.fullmatch(r"\s*(\d{1,4})(?:/(\d{4}))?\s*", label)
    if found is None:
        raise click.UsageError(f"--corrects “{label}” không hợp lệ: ghi số và năm ban hành, ví dụ 3/2026.")
    number, year = int(found[1]), int(found[2]) if found[2] else None
    candidates = service.issued_with_number(session, unit, number, year=year)
    label_vi = f"{number:02d}/TB-UBND" + (f" năm {year}" if year else "")
    if not candidates:
        raise click.ClickException(f"{unit.name} chưa ban hành Thông báo số {label_vi}: không có gì để đính chính.")
    if len(candidates) > 1:
        years = ", ".join(str(n.year) for n in candidates)
        raise click.ClickException(f"Có {len(candidates)} thông báo số {label_vi} (năm {years}): ghi --corrects "
                                   f"{number}/NĂM để chọn.")
    return candidates[0]


def issued_notice(session: Session, unit: Unit, number: int, *, year: int | None, period: Period | None) -> Notice:
    """The issued notice ``number`` of ``unit`` in ``year`` (its year of issue) and/or for ``period``.

    Never a notice computed now: a number printed on a document that was not issued would let two
    different documents carry the same number.
    """
    label = f"{number:02d}/TB-UBND"
    candidates = service.issued_with_number(session, unit, number, year=year)
    matching = [n for n in candidates
                if period is None or (n.period_start, n.period_end) == (period.start, period.end)]
    if len(matching) == 1:
        return matching[0]
    if len(matching) > 1:
        years = ", ".join(str(n.year) for n in matching)
        raise click.ClickException(f"Có {len(matching)} thông báo số {label} (năm {years}): thêm --year để chọn.")
    if candidates and period is not None:
        other = "; ".join(f"năm {n.year}: {period_words(n.period_start, n.period_end)}" for n in candidates)
        raise click.ClickException(f"Thông báo số {label} đã ban hành cho kỳ khác ({other}), không phải "
                                   f"{period_words(period.start, period.end)}.")
    which = f"Thông báo số {label}" + (f" năm {year}" if year else "") + (
        f" cho {period_words(period.start, period.end)}" if period is not None else "")
    raise click.ClickException(f"{which} của {unit.name} chưa ban hành: dùng --issue để ban hành, hoặc bỏ --number "
                               "để in bản dự thảo.")


COMMANDS: list[click.Command] = [notice]
