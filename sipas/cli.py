"""The ``sipas`` command. Settings come from ``SIPAS_*`` variables when a command runs.

Like the systemd units, the command reads the settings file (``SIPAS_ENV_FILE``, default
``/etc/sipas/sipas.env`` when present; see sipas.envfile); variables set in the shell win over it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import unicodedata

import click
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from sipas import cli_vietnamese
from sipas.cli_context import Context, pass_context
from sipas.plugins import channel_modules
from sipas.settings import ROOT_DIR

cli_vietnamese.install()  # click's own errors and headings in Vietnamese, as sipas's own messages


class SipasGroup(click.Group):
    """The ``sipas`` group: a setting the command cannot run with ends it with a message, not a traceback.

    The core settings are checked when the command's context reads them (``Context.settings``); the backup's,
    the scheduler's and the channels' are read later, by the code that uses them, and the criterion sets and the
    consent wordings of ``SIPAS_CONFIG_DIR`` when a command loads them. Their errors end the command here as
    ``Lỗi: Cấu hình sai: …`` with the variable's name or the file's path, like the core's."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        from sipas.catalogue import CatalogueError
        from sipas.consent import ConsentConfigError
        from sipas.settings import SettingsError

        try:
            return super().invoke(ctx)
        except (SettingsError, ConsentConfigError) as exc:
            raise click.ClickException(f"Cấu hình sai: {exc}") from None
        except CatalogueError as exc:
            folder = ctx.find_object(Context)
            where = f" ({folder.settings.config_dir})" if folder is not None and folder.has_settings else ""
            raise click.ClickException(f"Cấu hình sai: bộ tiêu chí trong SIPAS_CONFIG_DIR{where}: {exc}") from None
        except OSError as exc:  # a folder or file of the settings that cannot be made, read or written
            from sipas.os_errors import reason_vi

            where = f" {exc.filename}" if exc.filename else ""
            hint = (" (trên máy đã cài: chạy bằng người dùng của dịch vụ, runuser -u sipas -- sipas …)"
                    if isinstance(exc, PermissionError) else "")
            raise click.ClickException(f"Không truy cập được{where}: {reason_vi(exc)}{hint}") from None
        except DBAPIError as exc:
            from sipas.failures import database_unavailable

            if database_unavailable(exc) is None:
                raise  # not an outage: a bug, with its traceback
            raise click.ClickException(f"Không kết nối được cơ sở dữ liệu {_database_shown(ctx)}: "
                                       f"{str(exc.orig).strip()}") from None


def _database_shown(ctx: click.Context) -> str:
    """The database of the command, password hidden (SIPAS_DATABASE_URL may hold one)."""
    from sqlalchemy.engine import make_url

    context = ctx.find_object(Context)
    if context is None or not context.has_settings:
        return ""
    return make_url(context.settings.database_url).render_as_string(hide_password=True)


@click.group(cls=SipasGroup)
@click.option("-v", "--verbose", is_flag=True, help="Ghi log chi tiết.")
@click.option("-q", "--quiet", is_flag=True, help="Không in cơ sở dữ liệu đang dùng ra stderr.")
@click.pass_context
def cli(click_ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """SIPAS: đánh giá sự hài lòng của người dân theo từng hồ sơ tại Bộ phận Một cửa."""
    context = click_ctx.ensure_object(Context)
    context.quiet = quiet
    click_ctx.call_on_close(context.close)
    from sipas.logformat import configure as configure_logging

    configure_logging(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


@cli.group()
def db() -> None:
    """Cơ sở dữ liệu."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Cập nhật cấu trúc cơ sở dữ liệu (mọi bản di chuyển của lõi và các kênh)."""
    from sipas.migrate import upgrade

    catalogue = ctx.catalogue()  # refuse to migrate with a broken criterion catalogue
    ctx.announce_database()
    upgrade(ctx.settings.database_url)
    ctx.check_instruments(catalogue, record=True)
    click.echo("Đã cập nhật cơ sở dữ liệu.")


@cli.command()
@click.option("--if-empty", is_flag=True, help="Chỉ tạo khi chưa có đơn vị hay tài khoản nào (dùng cho make run).")
@click.option("--reset", is_flag=True,
              help="Xóa dữ liệu mẫu cũ và tạo lại (từ chối nếu cơ sở dữ liệu có dữ liệu không phải mẫu).")
@click.option("--seed", default=2026, show_default=True, help="Hạt giống ngẫu nhiên cho dữ liệu mẫu.")
@pass_context
def demo(ctx: Context, if_empty: bool, reset: bool, seed: int) -> None:
    """Tạo dữ liệu mẫu: một quận, hai phường, tài khoản cán bộ, hồ sơ và phiếu đánh giá."""
    from sipas.demo import create_demo, has_data
    from sipas.demo_admin import NotADemoDatabase, accounts_text, empty_demo_database, write_accounts_file

    with ctx.database.session() as session:
        if reset:
            try:
                empty_demo_database(session)
            except NotADemoDatabase as exc:
                raise click.ClickException(f"Không xóa: cơ sở dữ liệu có dữ liệu không phải dữ liệu mẫu ({exc}).") \
                    from None
        elif has_data(session):
            if if_empty:
                click.echo("Đã có dữ liệu: giữ nguyên, không tạo dữ liệu mẫu.")
                return
            raise click.ClickException("Cơ sở dữ liệu đã có đơn vị hoặc tài khoản; dữ liệu mẫu chỉ tạo trên cơ sở dữ "
                                       "liệu trống (tạo lại dữ liệu mẫu: sipas demo --reset).")
        credentials = create_demo(session, ctx.catalogue(), ctx.settings, secret=ctx.secret, seed=seed)
    path = write_accounts_file(ctx.settings.instance_dir, credentials)
    # Last, after every log line the creation wrote, so the accounts are not scrolled away.
    # The address the server is reached at (SIPAS_PUBLIC_BASE_URL), never a port assumed here.
    click.echo(f"Thử API: curl -H 'Authorization: Bearer <khóa API>' {ctx.settings.public_base_url}/api/v1/instruments")
    click.echo(f"Đã tạo dữ liệu mẫu. Tài khoản (đã lưu vào {path}, chỉ chủ sở hữu đọc được; "
               "hãy đổi mật khẩu khi dùng thật):")
    click.echo(accounts_text(credentials), nl=False)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Chạy kèm đúng một tiến trình lập lịch (gửi SMS...).")
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int, scheduler: bool) -> None:
    """Chạy ứng dụng web (gunicorn) kèm đúng một tiến trình lập lịch."""
    from sipas.consent import load_consent_wordings
    from sipas.migrate import is_up_to_date
    from sipas.scheduler import lease_seconds
    from sipas.settings_check import check_every_setting

    settings = ctx.settings
    # what gunicorn's app and the scheduler refuse at start, said once here (SipasGroup: "Cấu hình sai: …"),
    # not by both children followed by a gunicorn exit code blamed on the port
    check_every_setting(settings)
    load_consent_wordings(settings.config_dir)  # every gunicorn worker reads it at start, as the criterion sets
    if scheduler:
        lease_seconds(settings)
    if not is_up_to_date(ctx.database.engine, settings.database_url):
        raise click.ClickException("Cơ sở dữ liệu chưa được cập nhật: chạy `sipas db upgrade` trước.")
    ctx.check_instruments()
    children: list[subprocess.Popen[bytes]] = []
    if scheduler:
        children.append(subprocess.Popen([sys.executable, "-m", "sipas.cli", "scheduler"], env=ctx.environ))
    # The production gunicorn settings (threads, timeouts, proxy trust, the access log that masks
    # short-link codes), with the address and worker count of this command.
    gunicorn = subprocess.Popen([
        sys.executable, "-m", "gunicorn", "--config", str(ROOT_DIR / "deploy" / "gunicorn.conf.py"),
        "--bind", f"{host}:{port}", "--workers", str(workers), "sipas.wsgi:create()",
    ], env=ctx.environ)  # the app reads the settings file's values too
    children.append(gunicorn)
    from sipas.serve_banner import banner, wait_until_serving

    stopped: list[bool] = []  # asked to stop (SIGTERM, Ctrl+C): gunicorn's exit is then no failure

    def stop(*_args: object) -> None:
        stopped.append(True)
        for child in children:
            if child.poll() is None:
                child.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    failed: int | None = None
    try:
        if wait_until_serving(f"http://{host}:{port}/healthz", gunicorn):
            click.echo(banner(f"http://{host}:{port}", settings.instance_dir))
        returncode = gunicorn.wait()
        failed = None if stopped else returncode
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            child.wait(timeout=30)
        signal.signal(signal.SIGTERM, previous)
    if failed:
        # e.g. the port taken: gunicorn said why above; `make run` must not look successful
        raise click.ClickException(f"Máy chủ web (gunicorn) đã dừng với mã {failed}, không phục vụ tại "
                                   f"{host}:{port}: xem lỗi ở trên (cổng đang bận? chọn cổng khác: "
                                   "make run PORT=8080).")


@cli.command("scheduler")
@pass_context
def scheduler_command(ctx: Context) -> None:
    """Chạy tiến trình lập lịch (từ chối nếu đã có một tiến trình khác đang chạy)."""
    from sipas.migrate import is_up_to_date
    from sipas.scheduler import LeaseLost, SchedulerAlreadyRunning, run

    if not is_up_to_date(ctx.database.engine, ctx.settings.database_url):  # as `sipas serve`
        raise click.ClickException("Cơ sở dữ liệu chưa được cập nhật cho phiên bản này: chạy `sipas db upgrade` trước.")
    ctx.check_instruments()
    try:
        run(ctx.settings)
    except SchedulerAlreadyRunning as exc:
        raise click.ClickException(f"Đã có tiến trình lập lịch khác đang chạy: {exc}") from exc
    except LeaseLost as exc:
        raise click.ClickException(f"Tiến trình lập lịch đã mất khóa, dừng lại: {exc.message_vi}") from exc
    except KeyboardInterrupt:
        pass


@cli.group()
def unit() -> None:
    """Đơn vị (phường, xã, quận, huyện)."""


def _kind_by_name(name: str, parent_kind: str | None) -> str:
    """The level a unit's name says: "Tỉnh …" a province; "Quận/Huyện/Thị xã/Thành phố …" a district at the top
    or below a province; "Xã …" a commune; anything else a ward."""
    lowered = unicodedata.normalize("NFC", name.strip()).lower()
    if lowered.startswith("tỉnh"):
        return "province"
    if lowered.startswith(("quận", "huyện", "thị xã", "thành phố")) and parent_kind in (None, "province"):
        return "district"
    return "commune" if lowered.startswith("xã") else "ward"


@unit.command("create")
@click.option("--code", required=True, help="Mã đơn vị, không dấu cách.")
@click.option("--name", required=True, help='Tên, ví dụ "Phường Phú Hội".')
@click.option("--parent", "parent_code", help="Mã đơn vị cấp trên (quận/huyện).")
@click.option("--kind", type=click.Choice(["ward", "commune", "district", "province"]), default=None,
              help="Cấp đơn vị; mặc định theo tên: Tỉnh… là province; Quận/Huyện/Thị xã/Thành phố… là district "
                   "khi không có cấp trên hoặc cấp trên là tỉnh; Xã… là commune; còn lại là ward.")
@click.option("--signatory-name", default="", help="Họ tên người ký thông báo.")
@pass_context
def unit_create(ctx: Context, code: str, name: str, parent_code: str | None, kind: str | None,
                signatory_name: str) -> None:
    """Tạo đơn vị (phường, xã, quận, huyện)."""
    from sipas.errors import DomainError
    from sipas.models import UnitKind
    from sipas.units import create_unit, get_unit

    try:
        with ctx.database.session() as session:
            parent = get_unit(session, parent_code) if parent_code else None
            kind = kind or _kind_by_name(name, parent.kind if parent else None)
            created = create_unit(session, code=code, name=name, kind=UnitKind(kind), parent=parent,
                                  actor="cli", signatory_name=signatory_name)
            click.echo(f"Đã tạo đơn vị {created.code}: {created.name}")
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc


@cli.group()
def user() -> None:
    """Tài khoản cán bộ."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(["admin", "clerk", "leader"]), required=True)
@click.option("--unit", "unit_codes", multiple=True, help="Mã đơn vị được phép (lặp lại được).")
@click.option("--full-name", default="")
@click.option("--password", help="Bỏ trống để nhập (không hiện trên màn hình).")
@pass_context
def user_create(ctx: Context, username: str, role: str, unit_codes: tuple[str, ...], full_name: str,
                password: str | None) -> None:
    """Tạo tài khoản đăng nhập trang quản lý."""
    from sipas.accounts import create_user
    from sipas.errors import DomainError
    from sipas.models import Role
    from sipas.units import get_unit

    if password is None:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        with ctx.database.session() as session:
            units = [get_unit(session, code) for code in unit_codes]
            create_user(session, username=username, password=password, role=Role(role), units=units,
                        full_name=full_name, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    click.echo(f"Đã tạo tài khoản {username.strip().lower()} ({role}).")


@cli.group()
def apikey() -> None:
    """Khóa truy cập API cho hệ thống một cửa điện tử."""


@apikey.command("create")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị (khóa của quận/huyện dùng được cho các phường).")
@click.option("--name", default="", help="Ghi chú: hệ thống nào dùng khóa này.")
@pass_context
def apikey_create(ctx: Context, unit_code: str, name: str) -> None:
    """Tạo khóa API; khóa nằm ở dòng cuối cùng (chỉ hiện một lần)."""
    from sipas.accounts import create_api_key
    from sipas.errors import DomainError
    from sipas.units import get_unit

    try:
        with ctx.database.session() as session:
            _key, plaintext = create_api_key(session, get_unit(session, unit_code), name=name, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    click.echo("Khóa API (chỉ hiện một lần, hãy lưu lại):")
    click.echo(plaintext)


@apikey.command("list")
@pass_context
def apikey_list(ctx: Context) -> None:
    """Liệt kê khóa API: tiền tố, đơn vị, tên, lần dùng cuối, trạng thái."""
    from sipas.models import ApiKey

    with ctx.database.session() as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)):
            used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "chưa dùng"
            state = f"đã thu hồi {key.revoked_at.isoformat(timespec='minutes')}" if key.revoked_at else "đang dùng"
            click.echo(f"sipas_{key.prefix}\t{key.unit.code}\t{key.name}\t{used}\t{state}")


@apikey.command("revoke")
@click.argument("prefix")
@pass_context
def apikey_revoke(ctx: Context, prefix: str) -> None:
    """Thu hồi khóa API theo tiền tố (phần sau ``sipas_``)."""
    from sipas.accounts import revoke_api_key
    from sipas.clock import utcnow
    from sipas.models import ApiKey

    with ctx.database.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None:
            raise click.ClickException(f"Không có khóa {prefix}.")
        revoke_api_key(session, key, now=utcnow(), actor="cli")
    click.echo(f"Đã thu hồi khóa {prefix}.")


def _add_extra_commands() -> None:
    """Commands defined next to the feature they run: the core's import commands and the channels'."""
    from sipas import cli_accounts, cli_backup, cli_cases, cli_imports, cli_operate, cli_tally

    for command in cli_tally.DB_COMMANDS:
        db.add_command(command)
    for command in cli_accounts.USER_COMMANDS:
        user.add_command(command)

    for command in [*cli_imports.COMMANDS, *cli_backup.COMMANDS, *cli_operate.COMMANDS, *cli_cases.COMMANDS]:
        cli.add_command(command)
    for command in cli_operate.USER_COMMANDS:
        user.add_command(command)
    for module in channel_modules("cli"):
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    _add_extra_commands()
    cli(prog_name="sipas")


if __name__ == "__main__":
    main()
