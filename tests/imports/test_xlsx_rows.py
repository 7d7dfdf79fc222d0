"""``sipas.imports.xlsx_rows``: the rows read with expat are exactly openpyxl's own, on varied workbooks.

openpyxl's read-only ``iter_rows(values_only=True)`` (after ``reset_dimensions``) is the reference: workbooks
written by openpyxl in both modes (shared strings, inline strings), random grids of every kind of value, and
sheets edited by hand the way other producers write them (no ``r`` attributes, rich text, prefixed namespaces,
ISO dates, error codes, the 1904 calendar).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

import sipas.imports.reader  # noqa: F401  (its openpyxl set-up: no look-up of <dimension>)
from sipas.imports.reader import read_sheets
from sipas.imports.report import ImportFileError
from sipas.imports.xlsx_rows import ForbiddenXml, load_values, sheet_rows

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def _both(data: bytes) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(openpyxl's rows, the rows of ``load_values`` and ``sheet_rows``) of the first sheet."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()
        expected = [tuple(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    workbook = load_values(data)
    try:
        return expected, list(sheet_rows(workbook.worksheets[0]))
    finally:
        workbook.close()


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_sheet(data: bytes, edit, part: str = SHEET) -> bytes:  # type: ignore[no-untyped-def]
    """The same workbook with one part's XML (its first sheet's by default) passed through ``edit``."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            out.writestr(item, edit(content.decode("utf-8")).encode("utf-8") if item.filename == part else content)
    return target.getvalue()


def _to_shared(data: bytes, extra: str = "") -> bytes:
    """The workbook with its inline strings moved into a shared-strings part, as Excel saves them (openpyxl
    writes inline strings only); ``extra``: more ``<si>`` items, after the sheet's."""
    texts: list[str] = []

    def shared(match: re.Match[str]) -> str:
        texts.append(match.group(2))
        return f'<c{match.group(1)} t="s"><v>{len(texts) - 1}</v></c>'

    def sheet(xml: str) -> str:
        return re.sub(r'<c([^>]*?) t="inlineStr"><is>(.*?)</is></c>', shared, xml, flags=re.S)

    moved = _with_sheet(data, sheet)
    table = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main">{"".join(f"<si>{t}</si>" for t in texts)}{extra}</sst>')
    types = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sharedStrings+xml"/></Types>')
    source, target = zipfile.ZipFile(io.BytesIO(moved)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", types.encode())
            out.writestr(item, content)
        out.writestr(STRINGS, table.encode("utf-8"))
    return target.getvalue()


def _values(rng: random.Random) -> object:
    choices = [None, rng.randrange(-10**6, 10**12), rng.uniform(-1e6, 1e6), "Hộ tịch",
               f"000.00.20.H57-{rng.randrange(10**6)}",
               datetime(2026, 1, 1, 8) + timedelta(minutes=rng.randrange(10**6)),
               date(2025, 12, rng.randrange(1, 32)), rng.random() < 0.5, "  khoảng trắng  ", "có", 0.1 + 0.2,
               "a_x000D_b"]
    return rng.choice(choices)


@pytest.mark.parametrize("in_table", [False, True], ids=["inline strings", "string table"])
@pytest.mark.parametrize("write_only", [False, True], ids=["workbook", "write-only"])
@pytest.mark.parametrize("seed", range(3))
def test_random_grids_read_as_openpyxl_reads_them(in_table: bool, write_only: bool, seed: int) -> None:
    rng = random.Random(seed)
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("Danh sách") if write_only else workbook.active
    for _ in range(rng.randrange(1, 60)):
        row = [_values(rng) for _ in range(rng.randrange(0, 14))]
        if rng.random() < 0.1:
            row = []
        sheet.append(row)
    data = _save(workbook)
    expected, got = _both(_to_shared(data) if in_table else data)
    assert got == expected and got
    if in_table:
        assert STRINGS in zipfile.ZipFile(io.BytesIO(_to_shared(data))).namelist()


def test_formats_formulas_rich_text_and_gaps_read_as_openpyxl_reads_them() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"], sheet["C1"] = "Mã hồ sơ", 12345678901234, 1.5
    sheet["A3"] = datetime(2026, 1, 5, 8, 30)
    sheet["B3"] = 46027.25
    sheet["B3"].number_format = "dd/mm/yyyy hh:mm"
    sheet["C3"] = 1.75
    sheet["C3"].number_format = "[h]:mm:ss"
    sheet["D3"] = time(9, 15)
    sheet["E3"] = "=1+1"  # no cached value: None with data_only
    sheet["F3"] = True
    sheet["A4"] = CellRichText(["Đăng ký ", TextBlock(InlineFont(b=True), "khai sinh")])
    sheet["Z7"] = "xa"
    sheet["A9"] = "#N/A"
    expected, got = _both(_save(workbook))
    assert got == expected
    assert got[1] == () and got[2][1] == datetime(2026, 1, 5, 6, 0) and len(got[6]) == 26


def test_the_1904_calendar_reads_as_openpyxl_reads_it() -> None:
    workbook = Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    workbook.active["A1"] = datetime(2026, 3, 1)
    workbook.active["A2"] = date(1999, 12, 31)
    expected, got = _both(_save(workbook))
    assert got == expected == [(datetime(2026, 3, 1),), (datetime(1999, 12, 31),)]


def _hand_written(rows: str) -> bytes:
    workbook = Workbook()
    workbook.active["A1"] = "x"
    return _with_sheet(_save(workbook), lambda xml: re.sub(r"<sheetData>.*</sheetData>|<sheetData\s*/>",
                                                           f"<sheetData>{rows}</sheetData>", xml, flags=re.S))


@pytest.mark.parametrize("rows", [
    '<row><c t="inlineStr"><is><t>không r</t></is></c><c><v>2</v></c></row><row><c><v>3.5E2</v></c></row>',
    '<row r="2.0"><c r="C2" t="str"><f>A1</f><v>công thức</v></c><c r="B2" t="e"><v>#DIV/0!</v></c></row>',
    '<row r="3"><c r="A3" t="inlineStr"><is><r><t>Phường </t></r><r><rPr><b/></rPr><t>Một</t></r></is></c>'
    '<c r="B3" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c><c r="C3" t="inlineStr"><is/></c>'
    '<c r="D3" t="d"><v>2026-01-05T08:30:00</v></c><c r="E3" t="b"><v>0</v></c><c r="F3"><v></v></c></row>',
    '<row r="5"><c r="B5"><v>1</v></c></row><row r="4"><c r="A4"><v>2</v></c></row><row r="7"/>',
    '<row r="2"><c r="A2" s="0"><v>7</v><v>8</v></c><c r="B2" t="inlineStr"><is><t>một</t><t>hai</t></is></c></row>',
], ids=["no r", "float row, formula string, error", "rich and inline", "out of order and empty", "repeats"])
def test_hand_written_sheets_read_as_openpyxl_reads_them(rows: str) -> None:
    expected, got = _both(_hand_written(rows))
    assert got == expected


def test_a_prefixed_namespace_reads_as_openpyxl_reads_it() -> None:
    def prefixed(xml: str) -> str:
        xml = xml.replace('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                          'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
        return re.sub(r"<(/?)(?!\?)([A-Za-z]+)", r"<\1x:\2", xml)

    workbook = Workbook()
    workbook.active.append(["Mã", 1, datetime(2026, 2, 3)])
    workbook.active.append([None, "hai"])
    expected, got = _both(_with_sheet(_save(workbook), prefixed))
    assert got == expected == [("Mã", 1, datetime(2026, 2, 3)), (None, "hai")]


def test_entity_declarations_are_refused_as_defusedxml_refuses_them() -> None:
    workbook = Workbook()
    workbook.active["A1"] = "x"
    bomb = _with_sheet(_save(workbook), lambda xml: xml.replace(
        "<worksheet", '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet', 1))
    workbook = load_workbook(io.BytesIO(bomb), read_only=True, data_only=True)
    with pytest.raises(ForbiddenXml):
        list(sheet_rows(workbook.worksheets[0]))
    workbook.close()
    with pytest.raises(ImportFileError) as refused:
        for sheet in read_sheets(bomb, "bomb.xlsx"):
            list(sheet.rows)
    assert "bị hỏng" in refused.value.message_vi and "ForbiddenXml" in str(refused.value)


def test_shared_strings_read_as_openpyxl_reads_them() -> None:
    """Excel keeps every distinct text of a sheet in the shared strings: runs, escapes, empty items."""
    workbook = Workbook()
    workbook.active.append(["một"])
    extra = ('<si><t>Hộ tịch</t></si><si><r><t>Phường </t></r><r><rPr><b/></rPr><t xml:space="preserve">Một </t>'
             '</r></si><si><t>a_x005F_x000D_b</t></si><si/><si><t>x</t><t>y</t></si>')
    cells = "".join(f'<c r="{column}1" t="s"><v>{index}</v></c>' for index, column in enumerate("ABCDEF"))
    data = _with_sheet(_to_shared(_save(workbook), extra), lambda xml: re.sub(
        r"<sheetData>.*</sheetData>", f'<sheetData><row r="1">{cells}</row></sheetData>', xml, flags=re.S))
    expected, got = _both(data)
    assert got == expected == [("một", "Hộ tịch", "Phường Một ", "a_x000D_b", "", "y")]


def test_a_damaged_shared_strings_part_is_a_file_error() -> None:
    workbook = Workbook()
    workbook.active["A1"] = "một"
    damaged = _with_sheet(_to_shared(_save(workbook)), lambda xml: xml.replace("</sst>", "<si><t>hỏng</sst>"),
                          part=STRINGS)
    with pytest.raises(ImportFileError) as refused:
        for sheet in read_sheets(damaged, "hong.xlsx"):
            list(sheet.rows)
    assert "bị hỏng" in refused.value.message_vi


def test_merged_ranges_are_read_as_openpyxl_reads_them_across_chunks() -> None:
    """``merged_cells`` scans the sheet's bytes in 64 KiB chunks: 3,000 ranges (a tag cut at a chunk's end
    among them) are those openpyxl lists."""
    from sipas.imports.xlsx_rows import merged_cells

    workbook = Workbook()
    sheet = workbook.active
    for index in range(3000):
        row = 2 + 2 * index
        sheet.cell(row=row, column=3, value=f"Lĩnh vực {index}")
        sheet.merge_cells(start_row=row, start_column=3, end_row=row + 1, end_column=3 + index % 3)
    data = _save(workbook)
    expected = sorted((r.min_row, r.min_col, r.max_row, r.max_col) for r in load_workbook(io.BytesIO(data)).active
                      .merged_cells.ranges)
    worksheet = load_values(data).active
    assert sorted(merged_cells(worksheet)) == expected and len(expected) == 3000
