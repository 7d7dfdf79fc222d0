"""``sipas db retally``: recount the report tallies from the stored responses (``sipas.tally.rebuild``).

Needed only after something the tallies cannot follow: a change of ``SIPAS_TIMEZONE`` (their days are
local days) or rows changed by hand in the database. Runs in one transaction: reports read the old counts
until it commits.
"""

from __future__ import annotations

import click
from sqlalchemy import func, select

from sipas.cli_context import Context, pass_context
from sipas.models import Response
from sipas.tally import rebuild


@click.command("retally")
@pass_context
def retally(ctx: Context) -> None:
    """Đếm lại số liệu tổng hợp của báo cáo từ các phiếu đã lưu (sau khi đổi SIPAS_TIMEZONE)."""
    catalogue = ctx.catalogue()
    with ctx.database.session() as session:
        rebuild(session.connection(), catalogue.dissatisfied_answers(), ctx.settings.tz)
        responses = session.scalar(select(func.count(Response.id))) or 0
    click.echo(f"Đã đếm lại số liệu tổng hợp của {responses:,} phiếu.".replace(",", "."))


DB_COMMANDS: list[click.Command] = [retally]
