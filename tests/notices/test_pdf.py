"""The PDF made by LibreOffice from the DOCX, checked with poppler (pdfinfo, pdftotext, pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from aggregator.notices.docx_render import render_docx
from aggregator.notices.pdf_render import PdfError, docx_to_pdf
from tests.notices.test_format import view_of


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


@pytest.mark.slow
def test_pdf_has_the_text_with_diacritics_on_a4_pages(tmp_path: Path) -> None:
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of())))
    info = pdf_info(path)
    assert info["Page size"].startswith("595.") and "(A4)" in info["Page size"]
    assert 3 <= int(info["Pages"]) <= 4
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]}
    assert names == {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic", "LiberationSerif-BoldItalic"}
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    text = pdf_text(path)
    for expected in ("ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ HỘI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Số: 03/TB-UBND", "Phú Hội, ngày 06 tháng 3 năm 2023",
                     "THÔNG BÁO", "quý I năm 2023", "Rất hài lòng 43 phiếu (51,19%)", "Nơi nhận:",
                     "TM. ỦY BAN NHÂN DÂN", "Nguyễn Văn An", "- Lưu: VT, VP.", "PHỤ LỤC", "Tổng cộng"):
        assert expected in text, expected
    first_page = text.split("\f")[0]
    assert "Số: 03/TB-UBND" in first_page and first_page.splitlines()[0].strip() != "1"  # no number on page 1
    assert text.split("\f")[1].strip().splitlines()[0].strip() == "2"  # page 2 numbered at the top
    qr_page = next(i for i, page in enumerate(text.split("\f"), start=1) if "Kết quả công khai:" in page)
    subprocess.run(["pdftoppm", "-r", "150", "-f", str(qr_page), "-l", str(qr_page), "-singlefile", "-png",
                    str(path), str(tmp_path / "qr")], check=True)
    from PIL import Image
    from pyzbar.pyzbar import decode

    found = [d.data.decode() for d in decode(Image.open(tmp_path / "qr.png"))]
    assert found == ["https://hailong.example.vn/cong-khai/PHUHOI"]  # the printed QR still scans
    pages = text.split("\f")
    annex = next(i for i, page in enumerate(pages, start=1) if "PHỤ LỤC" in page)
    assert "Biểu đồ 1. Tỷ lệ các mức đánh giá theo từng tiêu chí" in pages[annex - 1]
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in images.splitlines()[2:]]
    charts = [r for r in rows if int(r[0]) >= annex and r[5] == "rgb"]
    assert len(charts) == 2  # one chart per instrument, in the annex, at print resolution
    assert all(int(r[3]) == 1949 and int(r[12]) >= 299 for r in charts)
    fields_page = next(page for page in pages if "Tổng cộng" in page)
    assert "II. TÌNH HÌNH TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ THEO LĨNH VỰC" in fields_page  # heading kept with its table


def test_a_missing_libreoffice_is_a_clear_error() -> None:
    with pytest.raises(PdfError, match="Không tìm thấy LibreOffice"):
        docx_to_pdf(b"PK", soffice="/nonexistent/soffice")


@pytest.mark.slow
def test_the_qr_caption_stays_on_the_page_of_its_qr(tmp_path: Path) -> None:
    """A deputy's three-line signature block once left the QR at the foot of page 2 and its caption alone on page 3."""
    from tests.notices.test_format import ward

    unit = ward()
    unit.signatory_title = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of(unit))))
    pages = pdf_text(path).split("\f")
    caption = next(i for i, page in enumerate(pages, start=1) if "Kết quả công khai:" in page)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    qr_page = int(images.splitlines()[2].split()[0])  # the document's first picture is the QR
    assert caption == qr_page


LONG_LABEL = ("Thái độ của cán bộ, công chức, viên chức (mức độ nhiệt tình, thái độ nhũng nhiễu, gây phiền hà, "
              "cách giao tiếp của cán bộ, công chức khi hướng dẫn, xử lý hồ sơ)")


def long_annex_view():  # type: ignore[no-untyped-def]
    """Tables that span pages: 30 criteria (every other one five lines tall) and 60 fields of three lines."""
    from aggregator.notices.template import template_for
    from aggregator.notices.viewmodel import build_view
    from sipas.settings import DEFAULT_CONFIG_DIR
    from tests.notices.sample_report import sample_report
    from tests.notices.test_format import ward

    report = sample_report()
    first = report["instruments"][0]["criteria"][0]
    report["instruments"][1]["criteria"] = [dict(first, code=f"c{i}", label=LONG_LABEL if i % 2 else "Nơi đón tiếp")
                                            for i in range(30)]
    report["fields"] = [dict(report["fields"][0], field=f"Lao động, Thương binh và Xã hội {i}") for i in range(1, 61)]
    unit = ward()
    return build_view(report, unit, template_for(unit, DEFAULT_CONFIG_DIR), number_=3, issue_date=date(2023, 4, 6),
                      public_url="https://hailong.example.vn/cong-khai/PHUHOI", parent_name="Thành phố Huế")


@pytest.mark.slow
def test_annex_rows_never_split_across_pages(tmp_path: Path) -> None:
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(long_annex_view())))
    pages = pdf_text(path).split("\f")
    annex = next(i for i, page in enumerate(pages) if "PHỤ LỤC" in page)
    for number, page in enumerate(pages[annex:], start=annex + 1):
        # a row's first line and its last line on the same page (the table's header rows repeat on each page)
        assert page.count("Thái độ của cán bộ,") == page.count("xử lý hồ sơ)"), number
        assert page.count("Lao động,") == len(re.findall(r"Xã hội \d+", page)), number
        if "Lao động," in page or "Thái độ của cán bộ," in page:
            assert "TT" in page.split("Lao động,")[0].split("Thái độ của cán bộ,")[0], number


@pytest.mark.slow
def test_the_annex_subtitle_never_leaves_one_word_on_its_last_line(tmp_path: Path) -> None:
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of())))  # "… của UBND phường Phú Hội)" wraps at 165 mm
    lines = pdf_text(path).split("(Kèm theo Thông báo", 1)[1].splitlines()
    end = next(i for i, line in enumerate(lines) if ")" in line)
    assert end == 1, lines[:3]  # wraps once
    assert len(lines[end].split()) >= 2, lines[end]  # "Phú Hội)", never "Hội)" alone


@pytest.mark.slow
def test_the_pdf_declares_vietnamese(tmp_path: Path) -> None:
    pdf = docx_to_pdf(render_docx(view_of()))
    assert re.findall(rb"/Lang\s*\(([^)]*)\)", pdf) == [b"vi-VN"]
    # a tagged PDF, so a screen reader gets the pictures' text alternatives (the DOCX's descr) and the reading order
    alts = [bytes.fromhex(m.decode()).decode("utf-16") for m in re.findall(rb"/Alt\s*<([0-9A-Fa-f]+)>", pdf)]
    assert alts[0].startswith("Mã QR dẫn tới trang công khai kết quả: ") and len(alts) == 1 + 2
    assert all(alt.startswith(f"Biểu đồ {n}. Tỷ lệ các mức đánh giá") for n, alt in enumerate(alts[1:], start=1))


def issuing_body_on_page_1(path: Path, tmp_path: Path) -> tuple[float, float]:
    """The widest printed line of the issuing body and the rule under it, in mm, as printed on page 1 (the lines
    from pdftotext's boxes, the rule as the longest dark run of pixels in the left column above "Số:")."""
    import html

    from PIL import Image

    boxes = subprocess.run(["pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout
    lines = re.findall(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</line>', boxes,
                       re.S)
    number_top = next(float(y) for _x, y, _X, words in lines if ">Số:<" in words)
    left_column = 92 / 25.4 * 72  # pt: the header's left column ends 92 mm from the page's edge
    body = [float(x_max) - float(x_min) for x_min, y, x_max, words in lines
            if float(y) < number_top and float(x_max) < left_column and html.unescape(words).strip()]
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-f", "1", "-l", "1", "-singlefile", "-png", str(path),
                    str(tmp_path / "page1")], check=True)
    with Image.open(tmp_path / "page1.png") as image:
        pixels, width = image.convert("L").load(), int(92 / 25.4 * 300)
        longest = 0
        for y in range(int(number_top / 72 * 300)):
            run = 0
            for x in range(width):
                run = run + 1 if pixels[x, y] < 128 else 0
                longest = max(longest, run)
    return max(body) * 25.4 / 72, longest / 300 * 25.4


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Phường Phú Hội", "Xã Quảng Điền Phong Hiền Bắc", "Phường Nguyễn Trường Tộ Hòa Bình",
                                  "Thị trấn Phong Điền"])
def test_the_rule_under_a_wrapped_issuing_body_is_a_third_to_a_half_of_its_line(name: str, tmp_path: Path) -> None:
    """A name too long for the left column wraps; the rule was 0.4 of the unwrapped name, two thirds of the
    longest printed line ("XÃ QUẢNG ĐIỀN PHONG" / "HIỀN BẮC" over a 38 mm rule)."""
    from sipas.units import named_defaults
    from tests.notices.test_format import ward

    unit = ward()
    unit.name, unit.issuing_body, unit.place_name = name, *named_defaults(name).values()
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of(unit))))
    line, rule = issuing_body_on_page_1(path, tmp_path)
    assert line / 3 - 0.5 <= rule <= line / 2 + 0.5, (line, rule)


@pytest.mark.slow
def test_a_long_place_name_never_splits_the_date(tmp_path: Path) -> None:
    """The right column broke "Xã Quảng Điền Phong Hiền Bắc, ngày 09 tháng 02 / năm 2024" inside the date; a date line
    too long for one line now breaks after the place's comma."""
    from sipas.units import named_defaults
    from tests.notices.test_format import ward

    unit = ward()
    unit.name, unit.issuing_body, unit.place_name = "Xã Quảng Điền Phong Hiền Bắc", *named_defaults(
        "Xã Quảng Điền Phong Hiền Bắc").values()
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of(unit, issue_date=date(2024, 2, 9)))))
    lines = [line.strip() for line in pdf_text(path).split("\f")[0].splitlines()]
    assert any(line.endswith("Xã Quảng Điền Phong Hiền Bắc,") for line in lines)
    assert any(line.endswith("ngày 09 tháng 02 năm 2024") for line in lines)


@pytest.mark.slow
def test_the_signature_never_stands_on_a_page_without_the_notice_s_text(tmp_path: Path) -> None:
    """When the closing paragraph ended a page, the signature block and "Nơi nhận" opened the next one with no line
    of the notice above them: a signed page that could be put under any text."""
    from tests.notices.test_format import ward

    unit = ward(notice={"paragraphs": {"criteria": "Số phiếu và tỷ lệ như sau" + " và" * 320 + ":"}})
    path = tmp_path / "thong-bao.pdf"
    path.write_bytes(docx_to_pdf(render_docx(view_of(unit))))
    signed = next(page for page in pdf_text(path).split("\f") if "Nơi nhận:" in page)
    assert "https://hailong.example.vn/cong-khai/PHUHOI." in signed  # the closing paragraph's last line
