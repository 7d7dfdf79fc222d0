"""An XLSX whose parts decompress huge is refused before openpyxl parses it (issue "Trust", point 12)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select

from sipas.imports import reader
from sipas.imports.reader import read_sheets
from sipas.imports.report import ImportFileError
from sipas.imports.xlsx_guard import MAX_CELL_CHARS, SpreadsheetTooLarge
from sipas.models import Dossier
from tests.factories import create_unit
from tests.imports.helpers import DOSSIER_HEADER, dossier_row, run_dossiers, xlsx


def _with_part(data: bytes, name: str, content: bytes, *, declared: int | None = None) -> bytes:
    """The workbook ``data`` with the part ``name`` replaced (deflated at the highest level)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item.filename, source.read(item.filename))
        target.writestr(name, content)
    if declared is None:
        return out.getvalue()
    return _lie_about_size(out.getvalue(), name, declared)


def _lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in the central directory, as a crafted bomb would."""
    raw = bytearray(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(name)
    start = archive.start_dir
    central = raw.find(b"PK\x01\x02" + bytes(raw[start + 4:start + 4]), start)
    while central >= 0:
        name_length = int.from_bytes(raw[central + 28:central + 30], "little")
        if raw[central + 46:central + 46 + name_length] == name.encode():
            raw[central + 24:central + 28] = declared.to_bytes(4, "little")
            break
        central = raw.find(b"PK\x01\x02", central + 4)
    assert info.file_size != declared
    return bytes(raw)


def _shared_strings(text_bytes: int) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
            b"<si><t>" + b"A" * text_bytes + b"</t></si></sst>")


def _bomb(text_bytes: int, *, declared: int | None = None) -> bytes:
    """A small workbook whose shared string (cell A1 refers to it) decompresses to ``text_bytes`` bytes."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    base = _with_part(xlsx([["x"]]), "xl/worksheets/sheet1.xml", sheet)
    archive = zipfile.ZipFile(io.BytesIO(base))  # openpyxl writes inline strings: declare a shared strings part
    types = archive.read("[Content_Types].xml").replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    rels = archive.read("xl/_rels/workbook.xml.rels").replace(b"</Relationships>", (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        b'Target="sharedStrings.xml" Id="rId9"/></Relationships>'))
    base = _with_part(_with_part(base, "[Content_Types].xml", types), "xl/_rels/workbook.xml.rels", rels)
    return _with_part(base, "xl/sharedStrings.xml", _shared_strings(text_bytes), declared=declared)


def _refusal(data: bytes, expected: type[ImportFileError] = SpreadsheetTooLarge) -> ImportFileError:
    tracemalloc.start()
    try:
        with pytest.raises(expected) as caught:
            for sheet in read_sheets(data, "bomb.xlsx"):
                list(sheet.rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"refusing the file took {peak} bytes"
    return caught.value


def test_a_shared_string_that_decompresses_huge_is_refused_with_bounded_memory(monkeypatch) -> None:
    data = _bomb(300 * 1024 * 1024)  # 300 MB of text in a file of a few hundred kilobytes
    assert len(data) < 512 * 1024
    loads: list[object] = []
    monkeypatch.setattr(reader, "load_values", lambda *args, **kwargs: loads.append(args) or pytest.fail("parsed"))
    error = _refusal(data)
    assert loads == []  # refused before openpyxl was asked to load the workbook
    assert error.code == "import_file_too_large"
    assert "Tệp Excel không thể nhập" in error.message_vi and "sharedStrings" in error.detail


def test_a_part_lying_about_its_size_is_refused_while_streaming() -> None:
    # The header claims 1 kB for 40 MB: the declared bounds pass, the stream stops at the claimed size and the
    # checksum no longer matches, so the file is refused as damaged without inflating the rest.
    data = _bomb(40 * 1024 * 1024, declared=1000)
    error = _refusal(data, ImportFileError)
    assert error.message_vi == "Tệp Excel bị hỏng hoặc không phải tệp .xlsx." and "CRC" in error.detail


def test_a_cell_longer_than_excel_allows_is_refused() -> None:
    data = _bomb(MAX_CELL_CHARS * 7)  # about 230 kB of text: small, well compressed, but no real cell is so long
    error = _refusal(data)
    assert "32.767 ký tự" in error.message_vi


def test_a_long_cell_within_excels_limit_is_read() -> None:
    data = _bomb(MAX_CELL_CHARS)
    rows = [row for sheet in read_sheets(data, "ok.xlsx") for _, row in sheet.rows]
    assert rows == [("A" * MAX_CELL_CHARS,)]


def test_the_import_reports_the_refusal_in_vietnamese_with_a_machine_code(session) -> None:
    unit = create_unit(session)
    data = _with_part(xlsx([DOSSIER_HEADER, dossier_row("H-1")]), "xl/sharedStrings.xml",
                      _shared_strings(120 * 1024 * 1024))
    report = run_dossiers(session, unit, data)
    assert report.file_error is not None and report.file_error.startswith("Tệp Excel không thể nhập")
    assert report.file_error_code == "import_file_too_large" and not report.written
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_an_ordinary_workbook_passes_the_bounds() -> None:
    data = xlsx([DOSSIER_HEADER, *[dossier_row(f"H-{n}") for n in range(2000)]])
    rows = [row for sheet in read_sheets(data, "hoso.xlsx") for _, row in sheet.rows]
    assert len(rows) == 2001


def test_a_broken_zip_is_still_an_ordinary_file_error() -> None:
    with pytest.raises(ImportFileError) as caught:
        list(read_sheets(b"PK\x03\x04" + b"\x00" * 100, "x.xlsx"))
    assert not isinstance(caught.value, SpreadsheetTooLarge)
