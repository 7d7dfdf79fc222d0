"""``sipas cases list``: the follow-up cases of a unit ("Phản ánh cần xử lý"), for a script or a cron mail."""

from __future__ import annotations

import json

import click

from sipas.cli_context import Context, pass_context


@click.group("cases")
def cases() -> None:
    """Phản ánh cần xử lý (phiếu không hài lòng hoặc góp ý cần trả lời)."""


@cases.command("list")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị.")
@click.option("--overdue", is_flag=True, help="Chỉ phản ánh quá hạn chưa trả lời.")
@click.option("--status", type=click.Choice(["open", "in_progress", "answered", "closed"]), help="Lọc theo trạng thái.")
@click.option("--quarter", help="Chỉ phiếu đánh giá trong quý, ví dụ 2026Q2.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@pass_context
def list_command(ctx: Context, unit_code: str, overdue: bool, status: str | None, quarter: str | None,
                 as_json: bool) -> None:
    """Liệt kê phản ánh của đơn vị (không in hồ sơ hay số điện thoại của người dân)."""
    from sqlalchemy import select

    from sipas.cases.models import CaseStatus
    from sipas.cases.rules import STATUS_LABELS
    from sipas.cases.service import CaseFilters, list_cases
    from sipas.clock import Period, local_date, utcnow
    from sipas.models import Unit

    ctx.quiet = ctx.quiet or as_json
    try:
        period = Period.parse_quarter(quarter) if quarter else None
    except ValueError:
        raise click.BadParameter("cần dạng 2026Q2", param_hint="--quarter") from None
    tz = ctx.settings.tz
    with ctx.database.session() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"Không có đơn vị mã {unit_code}.")
        filters = CaseFilters(period=period, status=CaseStatus(status) if status else None, overdue=overdue)
        rows = list_cases(session, ctx.catalogue(), [unit.id], filters, tz=tz, today=local_date(utcnow(), tz))
        records = [{"response_id": r.response.id, "submitted_on": r.submitted_on.isoformat(),
                    "channel": r.response.channel.value, "status": r.status.value, "due": r.due.isoformat(),
                    "age_days": r.age_days, "overdue": r.overdue, "dissatisfied": list(r.dissatisfied),
                    "asks_for_action": r.asks_for_action,
                    "assignee": r.case.assignee.username if r.case and r.case.assignee else None} for r in rows]
    if as_json:
        click.echo(json.dumps({"unit": unit_code, "cases": records}, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("Không có phản ánh nào phù hợp.")
        return
    for rec in records:
        late = " QUÁ HẠN" if rec["overdue"] else ""
        click.echo(f"#{rec['response_id']}  {rec['submitted_on']}  {rec['channel']:<6} "
                   f"{STATUS_LABELS[CaseStatus(rec['status'])]:<11} hạn {rec['due']}  {rec['age_days']} ngày{late}  "
                   f"{', '.join(rec['dissatisfied']) or 'góp ý'}")
    click.echo(f"Tổng: {len(records)} phản ánh, {sum(r['overdue'] for r in records)} quá hạn.")


COMMANDS = [cases]
