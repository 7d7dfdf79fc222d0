"""``sipas backup`` and ``sipas restore`` (see sipas.backup)."""

from __future__ import annotations

from pathlib import Path

import click

from sipas.cli_context import Context, pass_context


@click.command("backup")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục ghi bản sao lưu (mặc định SIPAS_BACKUP_DIR, hoặc instance/backups).")
@pass_context
def backup_command(ctx: Context, output_dir: Path | None) -> None:
    """Sao lưu cơ sở dữ liệu và khóa bí mật vào một tệp (chạy được khi hệ thống đang hoạt động)."""
    from sipas.backup import BackupError, BackupSettings, create_backup
    from sipas.clock import utcnow

    ctx.announce_database()
    settings = ctx.settings
    directory = output_dir or BackupSettings.from_settings(settings).directory
    try:
        path = create_backup(settings, directory, now=utcnow())
    except BackupError as exc:
        raise click.ClickException(f"Không sao lưu được: {exc}") from exc
    except OSError as exc:  # the folder cannot be made or written (permissions, a file in the way, a full disk)
        from sipas.os_errors import reason_vi

        raise click.ClickException(f"Không sao lưu được vào {directory}: {reason_vi(exc)}") from exc
    click.echo(f"Đã sao lưu vào {path} (tệp có khóa bí mật: hãy giữ kín).")
    click.echo(str(path))


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè cả khi cơ sở dữ liệu đã có dữ liệu.")
@pass_context
def restore_command(ctx: Context, archive: Path, force: bool) -> None:
    """Khôi phục từ một bản sao lưu (dừng web và tiến trình lập lịch trước)."""
    from sipas.backup import BackupError, restore_backup

    try:
        ctx.announce_database()
        manifest = restore_backup(ctx.settings, archive, force=force)
    except BackupError as exc:
        raise click.ClickException(f"Không khôi phục được: {exc}") from exc
    click.echo(f"Đã khôi phục bản sao lưu lúc {manifest['created_at']} (sipas {manifest['sipas_version']}). "
               "Chạy `sipas db upgrade` rồi khởi động lại dịch vụ.")


COMMANDS = [backup_command, restore_command]
