"""``sipas kiosk-pair`` (a pairing code without the console) and ``sipas kiosk-audio`` (rebuild read-aloud)."""

from __future__ import annotations

import click

from sipas.cli_context import Context, pass_context


@click.command("kiosk-pair")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị, ví dụ PHUONG-PHUHOI.")
@click.option("--name", default="Quầy 1", show_default=True, help="Tên kiosk.")
@pass_context
def kiosk_pair(ctx: Context, unit_code: str, name: str) -> None:
    """Tạo kiosk mới và in mã ghép nối (chỉ hiện một lần) để nhập trên màn hình kiosk."""
    from kiosk.config import pairing_valid_for
    from kiosk.pairing import create_device
    from sipas.clock import utcnow
    from sipas.errors import DomainError
    from sipas.units import get_unit

    valid_for = pairing_valid_for(ctx.settings)
    try:
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code)
            new = create_device(session, unit, name=name, now=utcnow(), secret_key=ctx.secret, actor="cli",
                                valid_for=valid_for)
            code = new.pairing_code
    except DomainError as exc:
        raise click.ClickException(exc.message_vi) from exc
    finally:
        ctx.close()
    page = f"{ctx.settings.public_base_url}/kiosk/{unit_code}"
    click.echo(f"Mở {page} trên kiosk và nhập mã ghép nối (hết hạn sau {int(valid_for.total_seconds() // 60)} phút):")
    click.echo(code)
    click.echo(f"Hoặc mở một lần đường dẫn: {page}#pair={code}")


@click.command("kiosk-audio")
@click.option("--check", is_flag=True, help="Chỉ kiểm tra tệp âm thanh đã có đủ chưa.")
def kiosk_audio(check: bool) -> None:
    """Tạo lại âm thanh đọc câu hỏi và lựa chọn (espeak-ng tiếng Việt, sox) cho kiosk."""
    from kiosk.audio_build import main

    raise SystemExit(main(["--check"] if check else []))


COMMANDS: list[click.Command] = [kiosk_pair, kiosk_audio]
