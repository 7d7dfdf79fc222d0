"""The DOCX layout of Nghị định 30/2020, Mẫu 1.4 (domain notes §5), read back with python-docx."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from aggregator.notices.docx_parts import text_width_mm
from aggregator.notices.docx_render import render_docx
from aggregator.notices.html_render import render_html
from tests.notices.test_format import view_of


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(render_docx(view_of())))


def texts(paragraphs: list[Paragraph]) -> list[str]:
    return [p.text for p in paragraphs]


def run_of(paragraph: Paragraph):  # type: ignore[no-untyped-def]
    runs = [r for r in paragraph.runs if r.text.strip()]
    assert runs, paragraph.text
    return runs[0]


def cell_margins_mm(document) -> float:  # type: ignore[no-untyped-def]
    """Left plus right margin of a table cell, as Word lays it out: the table's own ``tblCellMar`` or its
    style's (the header table has the document's default table style)."""
    style = next(s for s in document.styles.element.findall(qn("w:style"))
                 if s.get(qn("w:type")) == "table" and s.get(qn("w:default")) == "1")
    margins = style.find(qn("w:tblPr")).find(qn("w:tblCellMar"))
    own = document.tables[0]._tbl.tblPr.find(qn("w:tblCellMar"))
    margins = own if own is not None else margins
    return sum(int(margins.find(qn(f"w:{side}")).get(qn("w:w"))) for side in ("left", "right")) / 1440 * 25.4


def rule_mm(paragraph: Paragraph, column_mm: float, margins_mm: float = 0.0) -> float:
    """The drawn length of a rule: its paragraph's text area (the column less a cell's margins) less its indents."""
    assert paragraph._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")) is not None
    fmt = paragraph.paragraph_format
    return column_mm - margins_mm - fmt.left_indent.mm - fmt.right_indent.mm


def test_page_is_a4_portrait_with_the_official_margins(document) -> None:  # type: ignore[no-untyped-def]
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert 20 <= round(section.top_margin.mm) <= 25 and 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35 and 15 <= round(section.right_margin.mm) <= 20


def test_page_numbers_in_the_top_margin_from_page_two(document) -> None:  # type: ignore[no-untyped-def]
    section = document.sections[0]
    assert section.different_first_page_header_footer
    number = section.header.paragraphs[0]
    assert "PAGE" in "".join(number._p.itertext()) and number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert all(13 <= r.font.size.pt <= 14 for r in number.runs)
    first = section.first_page_header
    assert "PAGE" not in "".join(p._p.xml for p in first.paragraphs) and not first.paragraphs[0].text.strip()


def test_two_column_header_with_rules(document) -> None:  # type: ignore[no-untyped-def]
    header = document.tables[0]
    left, right = header.cell(0, 0), header.cell(0, 1)
    assert texts(left.paragraphs)[:2] == ["ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ HỘI"]
    for paragraph in left.paragraphs[:2]:
        run = run_of(paragraph)
        assert run.bold and 12 <= run.font.size.pt <= 13
    body_width = text_width_mm("ỦY BAN NHÂN DÂN", 13, bold=True)
    short = rule_mm(left.paragraphs[2], left.width.mm, cell_margins_mm(document))
    assert body_width / 3 <= short <= body_width / 2
    assert texts(right.paragraphs)[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    nation, motto = run_of(right.paragraphs[0]), run_of(right.paragraphs[1])
    assert nation.bold and 12 <= nation.font.size.pt <= 13
    assert motto.bold and 13 <= motto.font.size.pt <= 14
    # as long as the motto: the rule is drawn within the cell's margins (it was 3.8 mm short of the text)
    motto_rule = rule_mm(right.paragraphs[2], right.width.mm, cell_margins_mm(document))
    assert abs(motto_rule - text_width_mm(motto.text, 13, bold=True)) < 0.5
    number = run_of(header.cell(1, 0).paragraphs[0])
    assert number.text == "Số: 03/TB-UBND" and number.font.size.pt == 13 and not number.bold
    date_line = run_of(header.cell(1, 1).paragraphs[0])
    assert date_line.text == "Phú Hội, ngày 06 tháng 3 năm 2023"
    assert date_line.italic and 13 <= date_line.font.size.pt <= 14


def test_title_summary_and_body(document) -> None:  # type: ignore[no-untyped-def]
    paragraphs = document.paragraphs
    title = next(p for p in paragraphs if p.text == "THÔNG BÁO")
    assert run_of(title).bold and 13 <= run_of(title).font.size.pt <= 14
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    index = paragraphs.index(title) if title in paragraphs else [p.text for p in paragraphs].index("THÔNG BÁO")
    summary = paragraphs[index + 1]
    assert summary.text.startswith("Kết quả đánh giá sự hài lòng") and run_of(summary).bold
    assert rule_mm(paragraphs[index + 2], 165) < 165 / 2  # the short rule under the trích yếu
    body = [p for p in paragraphs if p.paragraph_format.first_line_indent and p.text]
    assert len(body) >= 10
    for paragraph in body:
        fmt = paragraph.paragraph_format
        assert fmt.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
        assert round(fmt.first_line_indent.mm) == 10
        assert fmt.space_after >= Pt(6) and 1.0 <= fmt.line_spacing <= 1.5
        assert all(13 <= r.font.size.pt <= 14 for r in paragraph.runs)
    headings = [p.text for p in body if run_of(p).bold]
    assert headings[0] == "1. Tình hình tiếp nhận, giải quyết hồ sơ thủ tục hành chính"
    assert any("Rất hài lòng 43 phiếu (51,19%)" in p.text for p in body)


def test_signature_block_and_recipients(document) -> None:  # type: ignore[no-untyped-def]
    sign = document.tables[1]
    left, right = sign.cell(0, 0), sign.cell(0, 1)
    heading = run_of(left.paragraphs[0])
    assert heading.text == "Nơi nhận:" and heading.bold and heading.italic and heading.font.size.pt == 12
    recipients = left.paragraphs[1:]
    assert recipients[0].text == "- UBND quận Thuận Hóa (để báo cáo);" and recipients[-1].text == "- Lưu: VT, VP."
    assert all(run_of(p).font.size.pt == 11 and not run_of(p).bold for p in recipients)
    lines = [p for p in right.paragraphs if p.text.strip()]
    assert [p.text for p in lines] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn An"]
    assert all(run_of(p).bold and 13 <= run_of(p).font.size.pt <= 14 for p in lines)


def test_fonts_cell_widths_and_annex(document) -> None:  # type: ignore[no-untyped-def]
    runs = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs
             if r.text.strip()]
    assert {r.font.name for r in runs} == {"Times New Roman"}
    for table in document.tables:
        for tc in table._tbl.iter(qn("w:tc")):
            width = tc.tcPr.find(qn("w:tcW"))
            assert width is not None and int(width.get(qn("w:w"))) > 0
    annex = document.tables[2]
    assert [c.text for c in annex.rows[0].cells][:3] == ["TT", "Tiêu chí", "Số phiếu trả lời"]
    assert annex.rows[1].cells[3].text == "Rất hài lòng: 51,19% (43)"
    fields = document.tables[-1]
    assert fields.rows[-1].cells[1].text == "Tổng cộng" and fields.rows[-1].cells[2].text == "1.348"


def test_draft_is_marked_and_unnumbered() -> None:
    draft = Document(io.BytesIO(render_docx(view_of(number_=None, issue_date=date(2023, 4, 2)))))
    assert draft.sections[0].first_page_header.paragraphs[0].text == "DỰ THẢO"
    assert draft.tables[0].cell(1, 0).paragraphs[0].text == "Số:      /TB-UBND"


def test_html_version_carries_the_same_text_and_a_qr() -> None:
    view = view_of()
    html = render_html(view)
    assert "Số: 03/TB-UBND" in html and "Phú Hội, ngày 06 tháng 3 năm 2023" in html
    assert "Rất hài lòng 43 phiếu (51,19%)" in html and "Nơi nhận:" in html and "<svg" in html
    assert "https://hailong.example.vn/cong-khai/PHUHOI" in html
    assert html.count('<figure class="chart">') == 2 and view.instruments[0].chart_svg in html
    assert "<figcaption>Biểu đồ 1. Tỷ lệ các mức đánh giá theo từng tiêu chí – Phiếu đánh giá tại quầy (4 câu)" in html


def test_the_printed_qr_opens_the_public_page(document) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image
    from pyzbar.pyzbar import decode

    images = [part for part in document.part.package.parts if part.partname.endswith(".png")]
    assert len(images) == 1 + 2  # the QR and one chart per instrument
    decoded = [d.data.decode() for image in images for d in decode(Image.open(io.BytesIO(image.blob)))]
    assert decoded == ["https://hailong.example.vn/cong-khai/PHUHOI"]


def _body_items(document):  # type: ignore[no-untyped-def]
    """Paragraphs and tables of the body in document order."""
    from docx.table import Table

    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            yield Table(child, document)


def test_each_criteria_table_of_the_annex_is_followed_by_its_chart(document) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    items = list(_body_items(document))
    annex = next(i for i, item in enumerate(items) if isinstance(item, Paragraph) and item.text == "PHỤ LỤC")
    pictures = [(i, item) for i, item in enumerate(items)
                if isinstance(item, Paragraph) and item._p.xpath(".//pic:pic")]
    charts = [(i, item) for i, item in pictures if i > annex]
    assert len(charts) == 2 and len(pictures) == 3  # and the QR before the annex
    for position, (i, paragraph) in enumerate(charts, start=1):
        title = items[i - 1]
        assert title.text.startswith(f"Biểu đồ {position}. Tỷ lệ các mức đánh giá theo từng tiêu chí – ")
        assert title.paragraph_format.keep_with_next and run_of(title).italic and run_of(title).font.name == \
            "Times New Roman"
        assert type(items[i - 2]).__name__ == "Table"  # right under its table
        shape = document.inline_shapes[[s._inline for s in document.inline_shapes].index(
            paragraph._p.xpath(".//wp:inline")[0])]
        assert round(shape.width.mm) == 165  # the text width
        blob = document.part.related_parts[paragraph._p.xpath(".//a:blip/@r:embed")[0]].blob
        with Image.open(io.BytesIO(blob)) as image:
            assert image.width / (shape.width.mm / 25.4) >= 299  # print resolution
            assert round(image.info["dpi"][0]) == 300
            assert image.height / image.width == pytest.approx(shape.height / shape.width, rel=0.01)


def test_the_chart_shows_the_figures_of_the_table() -> None:
    import xml.etree.ElementTree as ET

    view = view_of()
    for block in view.instruments:
        root = ET.fromstring(block.chart_svg)
        ns = "{http://www.w3.org/2000/svg}"
        shown = [r.find(f"{ns}title").text for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
        cells = [c for row in block.rows for c in row.cells if c not in ("", "–") and not c.endswith("(0)")]
        assert shown == [c.split(": ", 1)[-1] for c in cells]  # "51,19% (43)", in the same order
        assert root.get("font-family", "").startswith("Liberation Serif")
    assert "51,19% (43)" in view.instruments[0].chart_svg


def test_a_notice_issued_before_charts_keeps_its_annex() -> None:
    import dataclasses
    import json

    from aggregator.notices.viewmodel import view_from_dict

    stored = json.loads(json.dumps(dataclasses.asdict(view_of())))
    for block in stored["instruments"]:  # content saved before the chart fields existed
        del block["chart_svg"], block["chart_title"]
    old = view_from_dict(stored)
    assert all(block.chart_svg == "" for block in old.instruments)
    rendered = Document(io.BytesIO(render_docx(old)))
    assert len([p for p in rendered.part.package.parts if p.partname.endswith(".png")]) == 1
    assert "<figure" not in render_html(old)


def test_without_cairo_a_document_stops_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from aggregator.notices.chart_png import ChartError, chart_png

    chart_png.cache_clear()
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # as on a machine without the package
    with pytest.raises(ChartError, match="libcairo2") as error:
        render_docx(view_of())
    assert "Bản HTML vẫn có biểu đồ" in error.value.message_vi
    chart_png.cache_clear()


def test_the_text_is_in_vietnamese_for_spelling_and_screen_readers(document) -> None:  # type: ignore[no-untyped-def]
    """Word checked every word against English (all underlined as misspelt); the PDF said /Lang(en-US)."""
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:lang")).get(qn("w:val")) == "vi-VN"
    assert not [lang for lang in document.element.body.iter(qn("w:lang")) if lang.get(qn("w:val")) != "vi-VN"]


def test_every_picture_has_a_text_alternative(document) -> None:  # type: ignore[no-untyped-def]
    """A screen reader (and the PDF made from the DOCX) can say what each chart and the QR are."""
    view = view_of()
    alts = [shape._inline.docPr.get("descr", "") for shape in document.inline_shapes]
    assert len(alts) == 1 + 2  # the QR and one chart per instrument
    assert alts[0] == "Mã QR dẫn tới trang công khai kết quả: https://hailong.example.vn/cong-khai/PHUHOI"
    for alt, block in zip(alts[1:], view.instruments, strict=True):
        assert alt.startswith(block.chart_title + ". ")
        assert "một thanh ngang" in alt and "bảng ngay phía trên" in alt


def test_the_html_version_s_pictures_have_a_text_alternative() -> None:
    html = render_html(view_of())
    assert ('<div role="img" aria-label="Mã QR dẫn tới trang công khai kết quả: '
            'https://hailong.example.vn/cong-khai/PHUHOI"><svg') in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" width="740"') == html.count('role="img" aria-label="Kết')
