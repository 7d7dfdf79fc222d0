"""The notice's SVG charts as PNG for the DOCX (python-docx cannot embed SVG), at print resolution.

CairoSVG draws the very SVG the HTML version shows, with fontconfig's Liberation Serif (the chart
asks for it; ``fonts-liberation2`` has every Vietnamese letter), on white, 300 dpi at the width it
is printed. LibreOffice then carries the same picture into the PDF.
"""

from __future__ import annotations

import io
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
    from PIL import Image

    width_px = round(width_mm / MM_PER_INCH * dpi)
    try:
        png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width_px, background_color="white")
    except Exception as exc:  # CairoSVG raises parser and cairo errors of many kinds
        raise ChartError("Không vẽ được biểu đồ vào văn bản (dữ liệu biểu đồ hỏng).") from exc
    with Image.open(io.BytesIO(png)) as image:  # record the resolution, so a viewer knows the print size
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
