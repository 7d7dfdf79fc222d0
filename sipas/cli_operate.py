"""Operator commands: account recovery (``sipas user set-password``, ``sipas user list``), ``sipas doctor``."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sipas.cli_context import Context, pass_context


@click.command("set-password")
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


@click.command("list")
@pass_context
def user_list(ctx: Context) -> None:
    """Liệt kê tài khoản: tên đăng nhập, vai trò, đơn vị, trạng thái."""
    from sipas.models import User
    from sipas.text import vietnamese_key

    with ctx.database.session() as session:
        users = sorted(session.scalars(select(User).options(selectinload(User.units))),
                       key=lambda u: vietnamese_key(u.username))
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


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho hệ thống giám sát).")
@pass_context
def doctor(ctx: Context, as_json: bool) -> None:
    """Kiểm tra hệ thống đã triển khai; thoát với mã 0 chỉ khi mọi mục đều ổn."""
    import json

    from sipas.clock import utcnow
    from sipas.doctor import CHECKS, Deployment, run_checks
    from sipas.doctor.base import Finding, Outcome
    from sipas.scheduler import lease_seconds
    from sipas.settings import SettingsError
    from sipas.settings_check import check_every_setting

    ctx.quiet = ctx.quiet or as_json
    fix = "Sửa tệp cấu hình (SIPAS_ENV_FILE, mặc định /etc/sipas/sipas.env)."
    try:
        settings = ctx.settings
        # what the web app and the scheduler refuse at start: they would not run, whatever the other checks say
        check_every_setting(settings)
        lease_seconds(settings)
    except click.ClickException as exc:  # a broken settings file is the doctor's first finding, not a crash
        outcomes = [Outcome("settings", "Cấu hình", Finding(False, exc.message, fix))]
    except SettingsError as exc:
        outcomes = [Outcome("settings", "Cấu hình", Finding(False, f"Cấu hình sai: {exc}",
                                                            f"{fix} Dịch vụ web và tiến trình lập lịch không khởi "
                                                            "động với giá trị này."))]
    else:
        deployment = Deployment(settings, now=utcnow(), env_file=ctx.env_file)
        ctx.announce_database()
        try:
            outcomes = run_checks(deployment, CHECKS)
        finally:
            deployment.close()
    problems = sum(not outcome.finding.ok for outcome in outcomes)
    if as_json:
        click.echo(json.dumps({"ok": problems == 0, "checks": [o.as_json() for o in outcomes]},
                              ensure_ascii=False, indent=2))
    else:
        for outcome in outcomes:
            mark = "ĐẠT " if outcome.finding.ok else "LỖI "
            click.echo(f"{mark} {outcome.title_vi}: {outcome.finding.message_vi}")
            if outcome.finding.fix_vi:
                click.echo(f"      Cách sửa: {outcome.finding.fix_vi}")
        click.echo("Mọi mục đều ổn." if problems == 0 else f"Có {problems} mục cần sửa.")
    if problems:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [doctor]
USER_COMMANDS: list[click.Command] = [user_set_password, user_list]  # added to `sipas user` by sipas.cli
