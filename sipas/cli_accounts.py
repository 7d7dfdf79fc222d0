"""``sipas user set-role``: the operator changes an account's role and units from the command line.

The CLI is run by the server's operator and acts as a global admin (``sipas.account_policy``); the change
ends the account's open sessions and is audited like the console's (``sipas.accounts.change_role``).
Commands take the CLI's context with ``click.pass_obj`` so this module imports neither ``sipas.cli`` nor its
context module (no import circle).
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select


@click.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "clerk", "leader"]), required=True)
@click.option("--unit", "unit_codes", multiple=True,
              help="Mã đơn vị được phép (lặp lại được); quản trị không có đơn vị nào là quản trị toàn hệ thống.")
@click.pass_obj
def user_set_role(ctx: Any, username: str, role: str, unit_codes: tuple[str, ...]) -> None:
    """Đổi vai trò và đơn vị của tài khoản; các phiên đăng nhập đang mở của tài khoản đó kết thúc."""
    from sipas.accounts import change_role
    from sipas.errors import DomainError
    from sipas.models import Role, User
    from sipas.units import get_unit

    name = username.strip().lower()
    try:
        with ctx.database.session() as session:
            account = session.scalar(select(User).where(User.username == name))
            if account is None:
                raise click.ClickException(f"Không có tài khoản “{name}”.")
            units = [get_unit(session, code) for code in dict.fromkeys(unit_codes)]
            change_role(session, account, Role(role), units, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    scope = ", ".join(dict.fromkeys(unit_codes)) or "mọi đơn vị"
    click.echo(f"Đã đổi {name} thành {role} ({scope}); các phiên đăng nhập của tài khoản này đã kết thúc.")


USER_COMMANDS: list[click.Command] = [user_set_role]  # added to `sipas user` by sipas.cli
