"""``sipas send-due``: run the invitation cycle once (for cron and tests)."""

from __future__ import annotations

from datetime import datetime

import click

from sipas.cli_context import Context, pass_context
from sipas.clock import as_utc, utcnow
from sms_gateway.zalo_cli import zalo


@click.command("send-due")
@click.option("--now", "now_text",
              help="Thời điểm giả định (ISO 8601, mặc định: bây giờ). Không ghi múi giờ = giờ địa phương.")
@pass_context
def send_due(ctx: Context, now_text: str | None) -> None:
    """Gửi các tin mời/nhắc đánh giá đến hạn (chạy một lần chu trình gửi SMS)."""
    from sms_gateway.sending import run_cycle

    settings = ctx.settings
    if now_text:
        try:
            now = as_utc(datetime.fromisoformat(now_text), settings.tz)
        except ValueError as exc:
            raise click.BadParameter(f"không đọc được thời điểm “{now_text}”", param_hint="--now") from exc
    else:
        now = utcnow()
    summary = run_cycle(ctx.database, settings, now=now)
    click.echo(f"Chu trình SMS lúc {now.astimezone(settings.tz):%H:%M ngày %d/%m/%Y}: {summary.describe()}")


COMMANDS: list[click.Command] = [send_due, zalo]
