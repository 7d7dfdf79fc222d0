"""``sipas notice``: write a unit's notice for a period as DOCX, PDF or HTML (and optionally issue it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import select

from aggregator.models_notices import Notice
from aggregator.notices import service
from aggregator.notices.pdf_render import PdfError
from aggregator.notices.template import TemplateError
from aggregator.params import PeriodError, parse_period
from sipas.cli import Context, pass_context
from sipas.clock import local_date, utcnow
from sipas.errors import DomainError
from sipas.units import get_unit


@click.command("notice")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị.")
@click.option("--quarter", help="Quý, ví dụ 2023Q1.")
@click.option("--from", "start", help="Từ ngày (YYYY-MM-DD), cùng với --to.")
@click.option("--to", "end", help="Đến ngày (YYYY-MM-DD).")
@click.option("--number", type=click.IntRange(1, 9999), help="Số thông báo; bỏ trống để in bản dự thảo.")
@click.option("--date", "issue_day", help="Ngày ban hành (YYYY-MM-DD); mặc định hôm nay hoặc ngày cuối kỳ.")
@click.option("--format", "fmt", type=click.Choice(service.FORMATS), default="pdf", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp kết quả.")
@click.option("--issue", is_flag=True, help="Ban hành (chốt số liệu, lưu DOCX/PDF) với số đã cho.")
@pass_context
def notice(ctx: Context, unit_code: str, quarter: str | None, start: str | None, end: str | None,
           number: int | None, issue_day: str | None, fmt: str, output: Path, issue: bool) -> None:
    """Thông báo kết quả đánh giá của một đơn vị (DOCX, PDF hoặc HTML).

    With ``--number`` and a notice of that number already issued for the same period, the file is
    the issued one, unchanged; ``--issue`` issues a new notice.
    """
    settings = ctx.settings
    now = utcnow()
    today = local_date(now, settings.tz)
    if issue and number is None:
        raise click.UsageError("--issue cần --number.")
    try:
        period = parse_period(start=start, end=end, quarter=quarter, today=today)
        issue_date = date.fromisoformat(issue_day) if issue_day else max(today, period.end)
    except (PeriodError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code)
            existing = None if number is None else session.scalar(
                select(Notice).where(Notice.unit_id == unit.id, Notice.year == issue_date.year,
                                     Notice.number == number))
            if existing is not None and not issue:
                if (existing.period_start, existing.period_end) != (period.start, period.end):
                    raise click.ClickException(f"Số {existing.number_label} năm {existing.year} đã ban hành cho kỳ "
                                               "khác.")
                data = service.issued_bytes(existing, fmt)
                click.echo(f"Thông báo số {existing.number_label} đã ban hành: ghi đúng bản đã chốt.", err=True)
            else:
                report = service.compute_report(session, ctx.catalogue(), unit, period, settings=settings, now=now)
                if issue:
                    issued = service.issue_notice(session, unit, report,
                                                  service.IssueRequest(period, number or 0, issue_date),
                                                  settings=settings, actor="cli", now=now)
                    data = service.issued_bytes(issued, fmt)
                    click.echo(f"Đã ban hành Thông báo số {issued.number_label}.", err=True)
                else:
                    view = service.notice_view(session, unit, report, settings=settings, number=number,
                                               issue_date=issue_date)
                    data = service.render(view, fmt, settings)
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from None
    except (PdfError, TemplateError) as exc:
        raise click.ClickException(str(exc)) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    click.echo(f"Đã ghi {output} ({len(data):,} byte).".replace(",", "."))


COMMANDS: list[click.Command] = [notice]
