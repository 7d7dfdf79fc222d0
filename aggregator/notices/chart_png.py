"""The notice's SVG charts as PNG for the DOCX (python-docx cannot embed SVG), at print resolution.

CairoSVG draws the very SVG the HTML version shows, with fontconfig's Liberation Serif (the chart
asks for it; ``fonts-liberation2`` has every Vietnamese letter), on white, 300 dpi at the width it
is printed. LibreOffice then carries the same picture into the PDF.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from aggregator.notices.pdf_render import RenderError

PRINT_DPI = 300
MM_PER_INCH = 25.4


class ChartError(RenderError):
    """The chart could not be drawn (CairoSVG or the cairo library is missing, or the SVG is broken)."""


@lru_cache(maxsize=16)  # pure: the same chart in the DOCX of a preview, its PDF and a reprint is drawn once
def chart_png(svg: str, width_mm: float, dpi: int = PRINT_DPI) -> bytes:
    """``svg`` drawn ``width_mm`` wide at ``dpi`` (the height follows the SVG's proportions)."""
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # OSError: the cairo shared library itself is missing
        raise ChartError("Không vẽ được biểu đồ vào văn bản: thiếu thư viện cairo (gói Debian libcairo2 và gói "
                         "Python cairosvg). Bản HTML vẫn có biểu đồ.") from exc
    width_px = round(width_mm / MM_PER_INCH * dpi)
    try:
        png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width_px, background_color="white")
    except Exception as exc:  # CairoSVG raises parser and cairo errors of many kinds
        raise ChartError("Không vẽ được biểu đồ vào văn bản (dữ liệu biểu đồ hỏng).") from exc
    return with_resolution(png, dpi)


def with_resolution(png: bytes, dpi: int) -> bytes:
    """``png`` with a ``pHYs`` chunk right after its header, so a viewer knows the print size.

    Written directly (a decode and re-encode with Pillow took longer than drawing the chart)."""
    header_end = 8 + 8 + 13 + 4  # signature, IHDR length and type, IHDR data, CRC
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR" or b"pHYs" in png[:header_end + 8]:
        return png
    per_metre = round(dpi / MM_PER_INCH * 1000)
    body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)  # unit 1: metre
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return png[:header_end] + chunk + png[header_end:]


def warm_up() -> None:
    """Import CairoSVG and draw once (fontconfig loads its fonts on the first drawing, ~1 s), so the first
    notice of a worker does not pay for it; run in a thread at start-up, failures are the request's to report."""
    try:
        chart_png('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                  '<text x="1" y="9" font-family="Liberation Serif">Hài lòng</text></svg>', 1.0)
    except Exception:  # a missing cairo is reported by the request that needs it
        return
