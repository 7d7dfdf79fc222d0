"""The ``sipas import-dossiers`` and ``sipas import-responses`` commands."""

from __future__ import annotations

from pathlib import Path

import click

from sipas.cli_context import Context, pass_context
from sipas.format_vi import number_vi
from sipas.imports.report import ImportReport

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_UNIT = click.option("--unit", "unit_code", required=True, help="Mã đơn vị nhận dữ liệu.")
_SKIP = click.option("--skip-invalid", is_flag=True,
                     help="Nhập các dòng hợp lệ và bỏ qua các dòng lỗi (mặc định: có dòng lỗi thì không nhập gì).")


def _print_report(report: ImportReport) -> None:
    click.echo(report.summary_vi())
    if report.file_error is None:
        click.echo(f"  Số dòng dữ liệu: {number_vi(report.rows)}")
        click.echo(f"  Tạo mới:         {number_vi(report.created)}")
        if report.kind == "dossiers":
            click.echo(f"  Cập nhật:        {number_vi(report.updated)}")
        click.echo(f"  Không thay đổi:  {number_vi(report.unchanged)}" if report.kind == "dossiers"
                   else f"  Đã có từ trước: {number_vi(report.unchanged)}")
        click.echo(f"  Dòng lỗi:        {number_vi(report.error_rows)}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


def _progress_line(done: int, total: int) -> None:
    """One line on stderr, rewritten in place after each staged batch (``total`` is 0 until the file is read)."""
    if not total:
        click.echo(f"\r  Đã kiểm tra {number_vi(done)} dòng", nl=False, err=True)
    else:
        click.echo(f"\r  Đã kiểm tra {number_vi(done)}/{number_vi(total)} dòng (100%), đang ghi vào cơ sở dữ liệu…",
                   err=True)


def _finish(report: ImportReport) -> None:
    _print_report(report)
    if report.file_error is not None or report.errors:
        raise SystemExit(2 if report.refused else 1)


@click.command("import-dossiers")
@click.argument("file", type=_FILE)
@_UNIT
@_SKIP
@pass_context
def import_dossiers_command(ctx: Context, file: Path, unit_code: str, skip_invalid: bool) -> None:
    """Nhập hồ sơ từ tệp xuất của hệ thống một cửa (CSV hoặc XLSX); tạo mới hoặc cập nhật theo mã hồ sơ."""
    from sipas.clock import utcnow
    from sipas.errors import DomainError
    from sipas.imports import import_dossiers
    from sipas.units import get_unit

    settings = ctx.settings
    try:
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code)
            session.commit()  # on SQLite a transaction holds the write lock: not while the file is parsed
            report = import_dossiers(session, unit, file.read_bytes(), file.name, tz=settings.tz, now=utcnow(),
                                     secret=ctx.secret, actor="cli", skip_invalid=skip_invalid,
                                     phone_regions=settings.phone_regions, progress=_progress_line)
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    finally:
        ctx.database.dispose()
    _finish(report)


@click.command("import-responses")
@click.argument("file", type=_FILE)
@_UNIT
@_SKIP
@pass_context
def import_responses_command(ctx: Context, file: Path, unit_code: str, skip_invalid: bool) -> None:
    """Nhập phiếu đánh giá đã có (phiếu giấy đã nhập liệu, dữ liệu xuất từ cổng dịch vụ công) từ CSV hoặc XLSX."""
    from sipas.clock import utcnow
    from sipas.errors import DomainError
    from sipas.imports import import_responses
    from sipas.units import get_unit

    settings = ctx.settings
    try:
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code)
            report = import_responses(session, ctx.catalogue(), unit, file.read_bytes(), file.name, tz=settings.tz,
                                      now=utcnow(), actor="cli", skip_invalid=skip_invalid)
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    finally:
        ctx.database.dispose()
    _finish(report)


COMMANDS: list[click.Command] = [import_dossiers_command, import_responses_command]
