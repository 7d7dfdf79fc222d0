"""Operator commands: account recovery (``sipas user set-password``, ``sipas user list``)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sipas.cli import Context, pass_context, user


@user.command("set-password")
@click.argument("username")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Đọc mật khẩu mới từ dòng đầu của đầu vào chuẩn thay vì tạo ngẫu nhiên.")
@pass_context
def user_set_password(ctx: Context, username: str, from_stdin: bool) -> None:
    """Đặt mật khẩu mới cho tài khoản (khi quên mật khẩu); mặc định tạo và in ra một mật khẩu ngẫu nhiên."""
    from sipas.errors import DomainError
    from sipas.password_reset import reset_password

    password = None
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with ctx.database.session() as session:
            password = reset_password(session, username, password, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    name = username.strip().lower()
    if from_stdin:
        click.echo(f"Đã đặt mật khẩu mới cho {name}; các lần đăng nhập sai trước đó đã được xóa.")
        return
    click.echo(f"Mật khẩu mới của {name} (chỉ hiện một lần, hãy đổi sau khi đăng nhập):")
    click.echo(password)


@user.command("list")
@pass_context
def user_list(ctx: Context) -> None:
    """Liệt kê tài khoản: tên đăng nhập, vai trò, đơn vị, trạng thái."""
    from sipas.models import User

    with ctx.database.session() as session:
        users = session.scalars(select(User).options(selectinload(User.units)).order_by(User.username)).all()
        rows = [(u.username, str(u.role), _units_text(u), "hoạt động" if u.active else "đã khóa", u.full_name)
                for u in users]
    if not rows:
        click.echo("Chưa có tài khoản nào. Tạo bằng: sipas user create --username admin --role admin")
        return
    for username, role, units, state, full_name in rows:
        click.echo(f"{username:<20} {role:<7} {state:<10} {units:<30} {full_name}".rstrip())


def _units_text(account) -> str:  # type: ignore[no-untyped-def]
    codes = ", ".join(unit.code for unit in account.units)
    return codes or ("(mọi đơn vị)" if account.role == "admin" else "(chưa gán)")


COMMANDS: list[click.Command] = []  # the commands above attach to the core's groups
