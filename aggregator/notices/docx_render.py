"""The notice as DOCX, laid out per Nghị định 30/2020/NĐ-CP, Phụ lục I, Mẫu 1.4 (domain notes §5).

A4 portrait, margins 20/20/30/15 mm, Times New Roman; two-column header with rules; page numbers
centred in the top margin from page 2; signature block right and "Nơi nhận" left; an annex with the
per-criterion tables, each followed by its stacked-bar chart (the view-model's SVG drawn as a
300 dpi PNG), and the Biểu II.06a table. Every string comes from the view-model.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from aggregator.notices.chart_png import chart_png
from aggregator.notices.docx_parts import (
    FONT,
    add_page_field,
    add_rule,
    add_text,
    cell_margins_mm,
    keep_row_together,
    no_borders,
    repeat_header,
    set_language,
    set_widths,
    text_width_mm,
    tight,
    wrapped_width_mm,
)
from aggregator.notices.qr import qr_png
from aggregator.notices.viewmodel import InstrumentBlock, NoticeView

PAGE_W, PAGE_H = 210, 297
MARGINS = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_W = PAGE_W - MARGINS["left"] - MARGINS["right"]  # 165 mm
HEADER_COLS = (62.0, TEXT_W - 62.0)
SIGN_COLS = (88.0, TEXT_W - 88.0)
BODY_PT = 14
LANGUAGE = "vi-VN"
CHART_W = TEXT_W  # mm: the chart spans the text width
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
FIELD_HEAD = ("Tổng số", "Trực tuyến", "Trực tiếp và bưu chính", "Từ kỳ trước", "Tổng số", "Trước hạn",
              "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn")


def render_docx(view: NoticeView) -> bytes:
    document = Document()
    _page_setup(document, view)
    _header_block(document, view)
    _title(document, view)
    _body(document, view)
    _signature(document, view)
    _qr(document, view)
    _annex(document, view)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page_setup(document: DocumentObject, view: NoticeView) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set("{http://schemas.openxmlformats.org/"
                                                            "wordprocessingml/2006/main}eastAsia", FONT)
    set_language(document, LANGUAGE)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True
    number = tight(section.header.paragraphs[0])
    add_page_field(number, 14)
    first = tight(section.first_page_header.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    if view.draft:
        add_text(first, view.draft_mark, 13, bold=True)
    document.core_properties.title = f"{view.title} {view.summary}"
    document.core_properties.author = view.unit_name
    document.core_properties.language = LANGUAGE


def _header_block(document: DocumentObject, view: NoticeView) -> None:
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    no_borders(table)
    set_widths(table, HEADER_COLS)
    left, right = table.cell(0, 0), table.cell(0, 1)
    tight(left.paragraphs[0])
    add_text(left.paragraphs[0], view.body_lines[0], 13, bold=True)
    for line in view.body_lines[1:]:
        add_text(tight(left.add_paragraph()), line, 13, bold=True)
    column = HEADER_COLS[0] - cell_margins_mm(left)
    body_width = max(wrapped_width_mm(line, 13, column, bold=True) for line in view.body_lines)  # as printed
    add_rule(left, HEADER_COLS[0], min(max(body_width * 0.4, 18), HEADER_COLS[0] - 4), after=6)
    tight(right.paragraphs[0])
    add_text(right.paragraphs[0], view.nation, 12, bold=True)
    add_text(tight(right.add_paragraph()), view.motto, 13, bold=True)
    add_rule(right, HEADER_COLS[1], text_width_mm(view.motto, 13, bold=True), after=6)
    add_text(tight(table.cell(1, 0).paragraphs[0]), view.number_line, 13)
    add_text(tight(table.cell(1, 1).paragraphs[0]), date_line(view.date_line, HEADER_COLS[1] - cell_margins_mm(right)),
             13, italic=True)


def date_line(text: str, column_mm: float) -> str:
    """The place and date on one line when they fit, else the date on a line of its own (never split inside it)."""
    place, _, day = text.rpartition(", ")
    if not place or text_width_mm(text, 13, italic=True) <= column_mm:
        return text
    return f"{place},\n{day}"


def _title(document: DocumentObject, view: NoticeView) -> None:
    add_text(tight(document.add_paragraph(), before=18), view.title, 14, bold=True)
    add_text(tight(document.add_paragraph()), view.summary, 14, bold=True)
    add_rule(document, TEXT_W, 40, after=12)  # type: ignore[arg-type]


def body_paragraph(document: DocumentObject, text: str, *, bold: bool = False, italic: bool = False,
                   heading: bool = False) -> Paragraph:
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.keep_with_next = heading or None
    fmt.alignment = JUSTIFY
    fmt.first_line_indent = Mm(10)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(6)
    fmt.line_spacing = 1.15
    add_text(paragraph, text, BODY_PT, bold=bold, italic=italic)
    return paragraph


def _body(document: DocumentObject, view: NoticeView) -> None:
    body_paragraph(document, view.opening)
    for section in view.sections:
        body_paragraph(document, section.heading, bold=True, heading=True)
        for text in section.paragraphs:
            body_paragraph(document, text)
        for text in section.bullets:
            body_paragraph(document, "- " + text)
        for block in section.instruments:
            body_paragraph(document, block.heading, italic=True, heading=True)
            for row in block.rows:
                body_paragraph(document, "- " + row.line)
            if block.footnote:
                body_paragraph(document, block.footnote, italic=True)
    # the signature block never opens a page without a line of the notice above it
    body_paragraph(document, view.closing).paragraph_format.keep_with_next = True


def _signature(document: DocumentObject, view: NoticeView) -> None:
    spacer = document.add_paragraph().paragraph_format
    spacer.space_after, spacer.keep_with_next = Pt(0), True
    table = document.add_table(rows=1, cols=2)
    no_borders(table)
    set_widths(table, SIGN_COLS)
    keep_row_together(table.rows[0])
    left, right = table.cell(0, 0), table.cell(0, 1)
    add_text(tight(left.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT), "Nơi nhận:", 12, bold=True, italic=True)
    for line in view.recipients:
        add_text(tight(left.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT), line, 11)
    add_text(tight(right.paragraphs[0]), view.authority, 14, bold=True)
    for line in view.signatory_title.splitlines():
        add_text(tight(right.add_paragraph()), line, 14, bold=True)
    for _ in range(4):
        tight(right.add_paragraph())
    add_text(tight(right.add_paragraph()), view.signatory_name, 14, bold=True)


def _qr(document: DocumentObject, view: NoticeView) -> None:
    paragraph = tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, before=12)
    paragraph.paragraph_format.keep_with_next = True  # the caption never lands alone on the next page
    qr = paragraph.add_run().add_picture(io.BytesIO(qr_png(view.public_url)), width=Mm(22))
    qr._inline.docPr.set("descr", f"Mã QR dẫn tới trang công khai kết quả: {view.public_url}")  # alt text
    caption = tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT)
    add_text(caption, f"Kết quả công khai: {view.public_url}", 10, italic=True)


def _annex(document: DocumentObject, view: NoticeView) -> None:
    title = tight(document.add_paragraph())
    title.add_run().add_break(WD_BREAK.PAGE)
    add_text(title, view.annex_title, 14, bold=True)
    add_text(tight(document.add_paragraph(), after=12), view.annex_subtitle, 14, italic=True)
    add_text(tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, after=6),
             "I. KẾT QUẢ ĐÁNH GIÁ THEO TỪNG TIÊU CHÍ", 13, bold=True)
    if not view.instruments:
        add_text(tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, after=6),
                 "Chưa có phiếu đánh giá trong kỳ.", 13, italic=True)
    for block in view.instruments:
        _criteria_table(document, block)
        _chart(document, block)
        _footnote(document, block)
    heading = tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, before=12, after=6)
    heading.paragraph_format.keep_with_next = True  # never alone at the foot of a page, away from its table
    add_text(heading, "II. TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ THEO LĨNH VỰC (số hồ sơ)", 13, bold=True)
    _fields_table(document, view)


def _cell_text(cell, text: str, size: float, *, bold: bool = False,  # type: ignore[no-untyped-def]
               align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> None:
    add_text(tight(cell.paragraphs[0], align), text, size, bold=bold)


def _criteria_table(document: DocumentObject, block: InstrumentBlock) -> None:
    heading = tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, before=6, after=3)
    heading.paragraph_format.keep_with_next = True
    add_text(heading, block.heading, 13, italic=True)
    option_w = (TEXT_W - 10 - 58 - 20) / max(len(block.columns), 1)
    widths = (10.0, 58.0, 20.0, *([option_w] * len(block.columns)))
    table = document.add_table(rows=1 + len(block.rows), cols=len(widths))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths)
    repeat_header(table.rows[0])
    for row in table.rows:
        keep_row_together(row)
    for cell, text in zip(table.rows[0].cells, ("TT", "Tiêu chí", "Số phiếu trả lời", *block.columns), strict=True):
        _cell_text(cell, text, 11, bold=True)
    for row, data in zip(table.rows[1:], block.rows, strict=True):
        texts = (data.index, data.label, data.n, *data.cells)
        for position, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
            _cell_text(cell, text, 11, align=WD_ALIGN_PARAGRAPH.LEFT if position == 1 else WD_ALIGN_PARAGRAPH.CENTER)


def _footnote(document: DocumentObject, block: InstrumentBlock) -> None:
    """The "(*) Ít phiếu" note of the block, under its chart (the chart stays right under its table)."""
    if block.footnote:
        note = tight(document.add_paragraph(), WD_ALIGN_PARAGRAPH.LEFT, before=3, after=6)
        add_text(note, block.footnote, 11, italic=True)


def _chart(document: DocumentObject, block: InstrumentBlock) -> None:
    """The block's stacked-bar chart under its table, the full text width, titled above."""
    if not block.chart_svg:
        return
    title = tight(document.add_paragraph(), before=9, after=3)
    title.paragraph_format.keep_with_next = True
    add_text(title, block.chart_title, 11, italic=True)
    picture = tight(document.add_paragraph(), after=6)
    chart = picture.add_run().add_picture(io.BytesIO(chart_png(block.chart_svg, CHART_W)), width=Mm(CHART_W))
    chart._inline.docPr.set("descr", f"{block.chart_title}. Mỗi tiêu chí một thanh ngang 100 % chia theo tỷ lệ các "
                            "mức đánh giá, số phiếu trả lời ghi bên phải. Số liệu của biểu đồ có đầy đủ trong bảng "
                            "ngay phía trên.")  # the alt text read out instead of the picture


def _fields_table(document: DocumentObject, view: NoticeView) -> None:
    widths = (9.0, 26.0, *([(TEXT_W - 35.0) / 11] * 11))
    table = document.add_table(rows=2 + len(view.field_rows), cols=13)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths)
    top, sub = table.rows[0].cells, table.rows[1].cells
    for index, label in ((0, "TT"), (1, "Lĩnh vực")):
        merged = top[index].merge(sub[index])
        _cell_text(merged, label, 9, bold=True)
    for first, last, label in ((2, 5, "Tiếp nhận"), (6, 9, "Đã giải quyết"), (10, 12, "Đang giải quyết")):
        _cell_text(top[first].merge(top[last]), label, 9, bold=True)
    for cell, label in zip(sub[2:], FIELD_HEAD, strict=True):
        _cell_text(cell, label, 8, bold=True)
    repeat_header(table.rows[0])
    repeat_header(table.rows[1])
    for row in table.rows:
        keep_row_together(row)
    for number, (row, data) in enumerate(zip(table.rows[2:], view.field_rows, strict=True), start=1):
        total = number == len(view.field_rows)
        for position, (cell, text) in enumerate(zip(row.cells, data, strict=True)):
            _cell_text(cell, text, 9, bold=total,
                       align=WD_ALIGN_PARAGRAPH.LEFT if position == 1 else WD_ALIGN_PARAGRAPH.CENTER)
    set_widths(table, widths)
