"""Low-level python-docx helpers for the notice: runs, rules, fields, cell widths, text widths.

Rules are paragraph bottom borders with indents (Word and LibreOffice both draw them); their length
comes from the real advance width of the text above, measured with the Liberation Serif font files.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

FONT = "Times New Roman"
TWIPS_PER_MM = 1440 / 25.4
FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/truetype/liberation"))
FONT_FILES = {(False, False): "LiberationSerif-Regular.ttf", (True, False): "LiberationSerif-Bold.ttf",
              (False, True): "LiberationSerif-Italic.ttf", (True, True): "LiberationSerif-BoldItalic.ttf"}


@lru_cache(maxsize=64)
def _run_properties(size: float, bold: bool, italic: bool):  # type: ignore[no-untyped-def]
    half_points = round(size * 2)
    flags = ("<w:b/><w:bCs/>" if bold else '<w:b w:val="0"/>') + ("<w:i/><w:iCs/>" if italic else '<w:i w:val="0"/>')
    return parse_xml(
        f'<w:rPr {nsdecls("w")}><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
        f'{flags}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>')


def set_run_font(run: Run, size: float, *, bold: bool = False, italic: bool = False) -> Run:
    """Font, size, bold and italic on the run itself (built once per combination, then copied: fast)."""
    if run._r.rPr is not None:
        run._r.remove(run._r.rPr)
    run._r.insert(0, copy.deepcopy(_run_properties(size, bold, italic)))
    return run


def add_text(paragraph: Paragraph, text: str, size: float, *, bold: bool = False, italic: bool = False) -> Run:
    return set_run_font(paragraph.add_run(text), size, bold=bold, italic=italic)


def set_language(document: DocumentObject, language: str) -> None:
    """The language of all text (python-docx's template says en-US): Word's spelling check, LibreOffice's
    hyphenation and the PDF's /Lang, which screen readers use to pick a voice."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), language)


def tight(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER, *,
          before: float = 0, after: float = 0) -> Paragraph:
    """Single spacing, no indent: for header, signature and table paragraphs."""
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.0
    fmt.first_line_indent = Pt(0)
    return paragraph


@lru_cache(maxsize=8)
def _font(bold: bool, italic: bool):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    for directory in FONT_DIRS:
        path = directory / FONT_FILES[(bold, italic)]
        if path.exists():
            return ImageFont.truetype(str(path), 1000)
    return None


def text_width_mm(text: str, size: float, *, bold: bool = False, italic: bool = False) -> float:
    """The printed width of one line of text in millimetres (Liberation Serif ≡ Times New Roman metrics)."""
    font = _font(bold, italic)
    em = font.getlength(text) / 1000 if font is not None else 0.55 * len(text)
    return em * size * 25.4 / 72


def wrapped_width_mm(text: str, size: float, column_mm: float, *, bold: bool = False) -> float:
    """The width of the widest line of ``text`` as a column ``column_mm`` wide wraps it, between words and line by
    line as Word and LibreOffice do."""
    widest, line = 0.0, ""
    for word in text.split():
        if line and text_width_mm(f"{line} {word}", size, bold=bold) > column_mm:
            widest, line = max(widest, text_width_mm(line, size, bold=bold)), word
        else:
            line = f"{line} {word}" if line else word
    return min(max(widest, text_width_mm(line, size, bold=bold)), column_mm)


def cell_margins_mm(cell: _Cell) -> float:
    """Left plus right margin of ``cell``: its table's ``tblCellMar``, else the default table style's (python-docx's
    template: 108 twips a side). A paragraph's indents count from inside them."""
    own = cell._tc.getparent().getparent().tblPr.find(qn("w:tblCellMar"))
    margins = own
    if margins is None:
        styles = cell.part.document.styles.element
        default = next((style for style in styles.findall(qn("w:style"))
                        if style.get(qn("w:type")) == "table" and style.get(qn("w:default")) == "1"), None)
        table_pr = default.find(qn("w:tblPr")) if default is not None else None
        margins = table_pr.find(qn("w:tblCellMar")) if table_pr is not None else None
    if margins is None:
        return 2 * 108 / TWIPS_PER_MM
    sides = (margins.find(qn(f"w:{side}")) for side in ("left", "right"))
    return sum(int(side.get(qn("w:w"))) if side is not None else 108 for side in sides) / TWIPS_PER_MM


def add_rule(cell_or_container: _Cell, column_mm: float, rule_mm: float, *, after: float = 0) -> Paragraph:
    """A centred horizontal rule ``rule_mm`` long in a column ``column_mm`` wide, clear of the descenders.

    In a table cell the rule's paragraph lies within the cell's margins: the indents are counted from there (the
    motto's rule was 3.8 mm shorter than the motto)."""
    paragraph = cell_or_container.add_paragraph()
    tight(paragraph, before=1, after=after)
    fmt = paragraph.paragraph_format
    text_mm = column_mm - (cell_margins_mm(cell_or_container) if isinstance(cell_or_container, _Cell) else 0)
    side = max((text_mm - rule_mm) / 2, 0)
    fmt.left_indent = Mm(side)
    fmt.right_indent = Mm(side)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(3)
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "0"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    # pBdr must precede spacing/ind/jc in CT_PPr's sequence.
    anchor = next((child for child in p_pr if child.tag in {qn("w:spacing"), qn("w:ind"), qn("w:jc")}), None)
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        p_pr.append(borders)
    mark = OxmlElement("w:rPr")
    mark_size = OxmlElement("w:sz")
    mark_size.set(qn("w:val"), "4")
    mark.append(mark_size)
    p_pr.append(mark)
    return paragraph


def add_page_field(paragraph: Paragraph, size: float) -> None:
    """A PAGE field (the current page number)."""
    for kind in ("begin", "instr", "separate", "text", "end"):
        run = set_run_font(paragraph.add_run(), size)
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = " PAGE "
            run._r.append(instr)
        elif kind == "text":
            run.text = "2"
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


def set_widths(table: Table, widths_mm: tuple[float, ...]) -> None:
    """Column widths on the grid and on every cell (Word ignores one without the other)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    # CT_TblPr is a sequence: tblBorders must precede shd, tblLayout, tblCellMar and tblLook (Word checks).
    later = {qn("w:shd"), qn("w:tblLayout"), qn("w:tblCellMar"), qn("w:tblLook")}
    anchor = next((child for child in tbl_pr if child.tag in later), None)
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        tbl_pr.append(borders)


def keep_row_together(row) -> None:  # type: ignore[no-untyped-def]
    """The row is never split across two pages (the signature block; a row of an annex table)."""
    element = OxmlElement("w:cantSplit")
    row._tr.get_or_add_trPr().insert(0, element)


def repeat_header(row) -> None:  # type: ignore[no-untyped-def]
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)


def mm_of(length: Emu | int | None) -> float:
    return 0.0 if length is None else Emu(length).mm
