"""The QR code printed on the notice, linking to the unit's public results page."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def public_url(base_url: str, unit_code: str) -> str:
    return f"{base_url.rstrip('/')}/cong-khai/{unit_code}"


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
