"""The QR code printed on the notice, linking to that notice's own public page (a draft: the unit's page)."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def public_url(base_url: str, unit_code: str) -> str:
    return f"{base_url.rstrip('/')}/cong-khai/{unit_code}"


def notice_url(base_url: str, unit_code: str, year: int, number: int) -> str:
    """The public page of one issued notice: its files, their SHA-256 and the check by upload (issue 11 §5)."""
    return f"{public_url(base_url, unit_code)}/{year}/{number}"


def qr_png(url: str) -> bytes:
    """A black-on-white PNG, with the quiet zone the standard asks for."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """The same code as inline SVG for the HTML notice."""
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(url, image_factory=SvgPathImage, error_correction=ERROR_CORRECT_M, border=4)
    return image.to_string(encoding="unicode")
