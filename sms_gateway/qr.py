"""QR codes of short links as SVG (crisp on paper) and PNG (for messengers and tests)."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage


def _make(data: str, box_size: int, border: int) -> qrcode.QRCode:
    # Level M survives a creased or smudged slip; the short URL keeps the symbol small (version 3-4).
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str, *, border: int = 4) -> str:
    """A standalone SVG document (scalable; the slip sets its printed size in CSS)."""
    image = _make(data, 10, border).make_image(image_factory=SvgPathImage)
    svg = image.to_string(encoding="unicode")
    return svg if isinstance(svg, str) else svg.decode()


def qr_svg_inline(data: str, *, border: int = 2) -> str:
    """The SVG without the XML declaration, to embed in an HTML page."""
    svg = qr_svg(data, border=border)
    return svg[svg.index("<svg"):]


def qr_png(data: str, *, box_size: int = 8, border: int = 4) -> bytes:
    image = _make(data, box_size, border).make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
