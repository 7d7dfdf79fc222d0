"""``sipas zalo set-token`` and ``sipas zalo status``: the OA grant, given once by an administrator.

Tokens are read from a hidden prompt (or standard input), never from arguments (they would stay in the
shell history and the process list), and never printed again.
"""

from __future__ import annotations

import click

from sipas.cli_context import Context, pass_context
from sipas.clock import utcnow


@click.group("zalo")
def zalo() -> None:
    """Kênh Zalo (ZNS): cấp quyền OA và xem tình trạng token."""


@zalo.command("set-token")
@click.option("--expires-in", type=click.IntRange(min=60), default=90_000, show_default=True,
              help="Số giây access token còn hiệu lực (Zalo trả về expires_in).")
@pass_context
def set_token_command(ctx: Context, expires_in: int) -> None:
    """Nhập cặp token OA do quản trị OA cấp (refresh token bắt buộc; access token có thể bỏ trống)."""
    from sms_gateway.zalo_tokens import set_token

    refresh = click.prompt("Refresh token", hide_input=True).strip()
    access = click.prompt("Access token (Enter để bỏ trống: làm mới ngay khi gửi)", hide_input=True, default="",
                          show_default=False).strip()
    if not refresh:
        raise click.ClickException("Chưa nhập refresh token.")
    with ctx.database.session() as session:
        account = set_token(session, refresh_token=refresh, access_token=access, expires_in_seconds=expires_in,
                            now=utcnow())
        generation = account.generation
    click.echo(f"Đã lưu token OA (lần cấp thứ {generation}). Token không được hiển thị lại.")


@zalo.command("status")
@pass_context
def status_command(ctx: Context) -> None:
    """Tình trạng token OA (không hiển thị token)."""
    from sms_gateway.zalo_tokens import token_state

    settings = ctx.settings
    with ctx.database.read_sessionmaker() as session:
        account = token_state(session)
        if account is None:
            click.echo("Chưa cấp quyền OA: chạy `sipas zalo set-token`.")
            return
        click.echo(f"Lần cấp/làm mới: {account.generation}; access token hết hạn lúc "
                   f"{account.expires_at.astimezone(settings.tz):%H:%M %d/%m/%Y}.")
        if account.failure:
            click.echo(f"Làm mới token bị từ chối ({account.failure}): cần quản trị OA cấp lại quyền.")


@zalo.command("unit")
@click.argument("unit_code")
@click.option("--template-id", help="Mã mẫu tin mời (ZNS) đã được duyệt cho đơn vị.")
@click.option("--rating-template-id", help="Mã mẫu tin đánh giá dịch vụ (1–5 sao) của Zalo; \"\" để bỏ.")
@click.option("--correction", type=click.Choice(["latest", "first"]),
              help="Người dân gửi đánh giá lần hai: tính lần sau cùng (latest) hay giữ lần đầu (first).")
@click.option("--short-name", help="Tên ngắn của đơn vị trong tin (tối đa 30 ký tự).")
@click.option("--disable", is_flag=True, help="Thôi gửi qua Zalo (chỉ gửi SMS).")
@pass_context
def unit_command(ctx: Context, unit_code: str, template_id: str | None, rating_template_id: str | None,
                 correction: str | None, short_name: str | None, disable: bool) -> None:
    """Bật/tắt gửi tin mời qua Zalo cho một đơn vị và khai mã mẫu tin."""
    from sqlalchemy import select

    from sipas.audit import audit
    from sipas.models import Unit
    from sms_gateway.zalo_settings import unit_zalo_options
    from sms_gateway.zalo_unit_options import ZaloOptionsError, updated_zalo_options

    with ctx.database.session() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"Không có đơn vị mã “{unit_code}”.")
        try:
            options = updated_zalo_options(unit_zalo_options(unit), enable=not disable, template_id=template_id,
                                           rating_template_id=rating_template_id, correction=correction,
                                           short_name=short_name)
        except ZaloOptionsError as exc:
            if exc.field == "template_id" and template_id is None:
                raise click.ClickException("Cần --template-id (mã mẫu tin đã được Zalo duyệt).") from None
            raise click.BadParameter(exc.message_vi, param_hint=f"--{(exc.field or '').replace('_', '-')}") from None
        unit.options = {**(unit.options or {}), "zalo": options}  # reassigned: JSON columns track assignment
        audit(session, "zalo.unit_settings", actor="cli", unit=unit, subject=unit.code, **options)
        state = "bật" if options["enabled"] else "tắt"
    click.echo(f"Đã {state} gửi tin mời qua Zalo cho đơn vị {unit_code}.")
