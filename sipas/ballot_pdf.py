"""Printable paper ballots (phiếu đánh giá giấy) as PDF, A5 or A4, drawn with cairo: pure, no Flask, no database.

Each option is printed with the digit a clerk keys for it (1 for the first option of the criterion file, 0 for
"Không áp dụng"), so the keyed-entry form (``sipas.ballots``) reads straight off the paper. A ballot printed
for a dossier carries its code and a QR code of its phone-form link; a blank ballot has a line for the code
and no QR (the phone form is reached through a dossier's own link, see docs/ballots.md). A ballot that does
not fit one page continues on the next.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import cairocffi as cairo
import qrcode
import qrcode.constants

from sipas.catalogue import Instrument

PAGE_SIZES = {"a5": (419.53, 595.28), "a4": (595.28, 841.89)}  # points (1/72 inch)
SIZE_LABELS = {"a5": "A5", "a4": "A4"}
FONT = "DejaVu Sans"


@dataclass(frozen=True)
class BallotSheet:
    """One printed ballot: for a dossier (its code and phone-form URL) or blank (both None)."""

    dossier_code: str | None = None
    url: str | None = None


class _Page:
    """A cursor on the page: wraps text to a width and starts a new page when the next block does not fit."""

    def __init__(self, ctx: cairo.Context, width: float, height: float, scale: float) -> None:
        self.ctx, self.width, self.height, self.scale = ctx, width, height, scale
        self.margin = 24 * scale
        self.y = self.margin

    def size(self, points: float, bold: bool = False) -> None:
        self.ctx.select_font_face(FONT, cairo.FONT_SLANT_NORMAL,
                                  cairo.FONT_WEIGHT_BOLD if bold else cairo.FONT_WEIGHT_NORMAL)
        self.ctx.set_font_size(points * self.scale)

    def advance(self, text: str) -> float:
        return self.ctx.text_extents(text)[4]

    def wrap(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}".strip()
            if current and self.advance(candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        return [*lines, current] if current else lines

    def line_height(self) -> float:
        return self.ctx.get_font_matrix().xx * 1.35

    def ensure(self, needed: float) -> None:
        if self.y + needed > self.height - self.margin:
            self.ctx.show_page()
            self.y = self.margin

    def paragraph(self, text: str, *, points: float, bold: bool = False, x: float | None = None,
                  width: float | None = None, gap: float = 0) -> None:
        self.size(points, bold)
        left = self.margin if x is None else x
        lines = self.wrap(text, width or (self.width - left - self.margin))
        step = self.line_height()
        self.ensure(step * min(len(lines), 2))
        for line in lines:
            self.ensure(step)
            self.y += step
            self.ctx.move_to(left, self.y - step * 0.25)
            self.ctx.show_text(line)
        self.y += gap * self.scale


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _qr(ctx: cairo.Context, url: str, x: float, y: float, side: float) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = side / len(matrix)
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                ctx.rectangle(x + column * cell, y + row * cell, cell + 0.05, cell + 0.05)
    ctx.fill()


def _ballot(page: _Page, instrument: Instrument, sheet: BallotSheet, unit_name: str) -> None:
    ctx, scale = page.ctx, page.scale
    qr_side = 78 * scale if sheet.url else 0
    text_width = page.width - 2 * page.margin - (qr_side + 8 * scale if qr_side else 0)
    top = page.y
    page.paragraph(_text(unit_name.upper()), points=8, bold=True, width=text_width, gap=4)
    page.paragraph("PHIẾU ĐÁNH GIÁ SỰ HÀI LÒNG", points=12, bold=True, width=text_width)
    page.paragraph(_text(instrument.label), points=9, width=text_width)
    page.paragraph(f"Mẫu {instrument.code}, phiên bản {instrument.version}", points=7, width=text_width, gap=4)
    code = sheet.dossier_code or "." * 40
    page.paragraph(_text(f"Mã hồ sơ: {code}"), points=9, bold=bool(sheet.dossier_code), width=text_width, gap=2)
    if sheet.url:  # for a phone without a QR reader: the address typed by hand
        page.paragraph(f"Đánh giá trên điện thoại: {sheet.url}", points=7, width=text_width, gap=2)
    if sheet.url:
        _qr(ctx, sheet.url, page.width - page.margin - qr_side, top, qr_side)
        page.size(6)
        caption = page.wrap("Quét mã để đánh giá trên điện thoại", qr_side)
        for n, line in enumerate(caption, start=1):
            ctx.move_to(page.width - page.margin - qr_side, top + qr_side + n * page.line_height())
            ctx.show_text(line)
        page.y = max(page.y, top + qr_side + (len(caption) + 0.5) * page.line_height())
    page.paragraph("Ông/bà vui lòng đánh dấu X vào một ô cho mỗi câu.", points=8, gap=4)
    for number, criterion in enumerate(instrument.citizen_criteria, start=1):
        page.paragraph(_text(f"Câu {number}. {criterion.label}"), points=8.5, bold=True, gap=1)
        choices = [f"{n}. {option.label}" for n, option in enumerate(criterion.options, start=1)]
        if criterion.allow_na:
            choices.append("0. Không áp dụng")
        _choices(page, [_text(c) for c in choices])
        page.y += 3 * scale
    page.paragraph("Ý kiến khác của ông/bà (nếu có):", points=8, gap=2)
    page.size(8)
    dots = "." * int((page.width - 2 * page.margin) / page.advance("."))
    for _ in range(2):
        page.paragraph(dots, points=8)
    page.paragraph("Xin trân trọng cảm ơn ông/bà!", points=8, bold=True)


def _choices(page: _Page, choices: Sequence[str]) -> None:
    """Options side by side, each after an empty box, wrapping to a new line when the next does not fit."""
    page.size(8)
    step, box = page.line_height(), 7 * page.scale
    x, right = page.margin + 8 * page.scale, page.width - page.margin
    page.ensure(step)
    page.y += step
    for choice in choices:
        label = choice if page.advance(choice) + box + 4 < right - page.margin else page.wrap(choice, right - x)[0]
        needed = box + 4 * page.scale + page.advance(label) + 12 * page.scale
        if x + needed > right and x > page.margin + 8 * page.scale:
            x = page.margin + 8 * page.scale
            page.ensure(step)
            page.y += step
        page.ctx.rectangle(x, page.y - step * 0.25 - box + 1, box, box)
        page.ctx.set_line_width(0.6)
        page.ctx.stroke()
        page.ctx.move_to(x + box + 4 * page.scale, page.y - step * 0.25)
        page.ctx.show_text(label)
        x += needed


def render_ballots(instrument: Instrument, sheets: Sequence[BallotSheet], *, unit_name: str, size: str) -> bytes:
    """A PDF with each ballot starting on a new page, in ``size`` ("a5" or "a4")."""
    width, height = PAGE_SIZES[size]
    buffer = io.BytesIO()
    surface = cairo.PDFSurface(buffer, width, height)
    surface.set_metadata(cairo.PDF_METADATA_TITLE, _text(f"Phiếu đánh giá {instrument.code}"))
    ctx = cairo.Context(surface)
    ctx.set_source_rgb(0, 0, 0)
    for sheet in sheets:
        page = _Page(ctx, width, height, 0.95 if size == "a5" else 1.3)
        _ballot(page, instrument, sheet, unit_name)
        ctx.show_page()
    surface.finish()
    return buffer.getvalue()
