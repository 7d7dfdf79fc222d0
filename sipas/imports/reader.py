"""Reading a spreadsheet (XLSX or CSV) into numbered rows of raw cell values.

Row numbers are the ones a person sees in Excel or LibreOffice (1-based, blank rows counted).
"""

from __future__ import annotations

import csv
import functools
import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from sipas.imports.report import ImportFileError
from sipas.imports.xlsx_guard import MAX_CELL_CHARS, SpreadsheetTooLarge, check_xlsx
from sipas.imports.xlsx_rows import load_values, merged_cells, sheet_rows

Row = tuple[object, ...]

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Opening a sheet read-only, openpyxl looks for its <dimension>; a sheet without one (streaming writers leave it
# out) is then parsed to its end just to learn that, a third of the reading time. The import ignores
# dimensions (exports often carry a wrong one: ``sipas.imports.xlsx_rows`` reads every row), so the look-up is
# skipped. This module is the only read-only user of openpyxl.
ReadOnlyWorksheet._get_size = lambda self: None  # type: ignore[method-assign]


@dataclass
class Sheet:
    name: str | None
    rows: Iterator[tuple[int, Row]]
    #: merged ranges (first row, first column, last row, last column), read when asked: an XLSX sheet's
    merges: Callable[[], list[tuple[int, int, int, int]]] = lambda: []


def fill_merged_down(rows: Iterator[tuple[int, Row]], merges: list[tuple[int, int, int, int]]
                     ) -> Iterator[tuple[int, Row]]:
    """Rows with the cells a vertical merge covers given its first cell's value, as the sheet shows them.

    Only the first cell of a merged range holds the value in the file; an export grouped by field merges the
    "Lĩnh vực" cell over the rows of each field, and the rows under the first read as blank, which a re-import
    took for "empty" (it cleared their field). Only merges whose first row is among ``rows`` are filled (the
    data rows: a merge in a two-row header is the header's business)."""
    vertical = [m for m in merges if m[2] > m[0]]
    if not vertical:
        yield from rows
        return
    seen: dict[tuple[int, int], object] = {}
    for number, row in rows:
        cells = list(row)
        for top, left, bottom, right in vertical:
            if number == top:
                for column in range(left, right + 1):
                    seen[(top, column)] = cells[column - 1] if column <= len(cells) else None
            elif top < number <= bottom:
                for column in range(left, right + 1):
                    if (top, column) in seen:
                        cells.extend([None] * (column - len(cells)))
                        if cells[column - 1] in (None, ""):
                            cells[column - 1] = seen[(top, column)]
        yield number, tuple(cells)


def read_sheets(data: bytes, filename: str) -> Iterator[Sheet]:
    """Every sheet of a workbook (a CSV file is one sheet). Raises ``ImportFileError`` for a broken file."""
    if not data.strip():
        raise ImportFileError("Tệp trống.", detail="empty file")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_sheets(data)
    if data.startswith(_XLS_MAGIC):
        raise ImportFileError("Tệp Excel 97-2003 (.xls) hoặc tệp Excel có đặt mật khẩu chưa được hỗ trợ: hãy mở "
                              "tệp, bỏ mật khẩu nếu có, rồi lưu lại dưới dạng .xlsx hoặc CSV.",
                              detail="legacy xls or encrypted xlsx")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError("Tệp .xlsx bị hỏng hoặc không phải tệp Excel.", detail="xlsx without zip magic")
    return iter([Sheet(None, _csv_rows(_decode(data)))])


def _xlsx_sheets(data: bytes) -> Iterator[Sheet]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_xlsx(archive)  # sizes and cell lengths bounded before openpyxl holds anything in memory
    except zipfile.BadZipFile as exc:
        raise ImportFileError("Tệp Excel bị hỏng hoặc không phải tệp .xlsx.", detail=f"zip: {exc}") from exc
    try:
        workbook = load_values(data)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError,
            SyntaxError, ExpatError) as exc:  # SyntaxError: ElementTree's ParseError (openpyxl's other parts)
        raise ImportFileError("Tệp Excel bị hỏng hoặc không phải tệp .xlsx.", detail=f"openpyxl: {exc}") from exc

    def sheets() -> Iterator[Sheet]:
        try:
            ordered = [workbook.active, *[ws for ws in workbook.worksheets if ws is not workbook.active]]
            for worksheet in ordered:
                if worksheet is None or not hasattr(worksheet, "iter_rows"):
                    continue
                yield Sheet(worksheet.title, _checked_rows(worksheet),
                            merges=functools.partial(merged_cells, worksheet))
        finally:
            workbook.close()

    return sheets()


def _checked_rows(worksheet: object) -> Iterator[tuple[int, Row]]:
    """Rows are parsed lazily: a damaged sheet fails half-way, and must still be a file-level error."""
    try:
        for number, row in enumerate(sheet_rows(worksheet), start=1):
            if any(isinstance(v, str) and len(v) > MAX_CELL_CHARS for v in row):
                raise _too_long(number)
            # "_x0000_" escapes decode to NUL, which no database column holds: drop it like Excel shows it.
            yield number, tuple(_text(v) if isinstance(v, str) and not v.isascii() else v for v in row)
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (XML, value, key errors) on a damaged sheet
        raise ImportFileError("Tệp Excel bị hỏng: không đọc được hết các dòng.",
                              detail=f"xlsx rows: {type(exc).__name__}") from exc


def _text(value: str) -> str:
    """A cell's text as the CSV readers give it: NFC (Vietnamese typed as decomposed marks, "Unicode tổ hợp" in
    Unikey or a Mac, is the same text: one field, not two) and without NUL."""
    value = value.replace("\x00", "")
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def _too_long(number: int) -> ImportFileError:
    return SpreadsheetTooLarge(f"Dòng {number} có ô dài hơn {MAX_CELL_CHARS:,} ký tự (giới hạn của Excel) nên không "
                               "thể nhập tệp.".replace(",", "."), detail=f"cell over {MAX_CELL_CHARS} chars")


def _decode(data: bytes) -> str:
    text = _decode_text(data)
    if "\x00" in text:  # binary data further down, or a damaged export: no database column holds NUL
        raise ImportFileError("Tệp có ký tự không hợp lệ (NUL): tệp bị hỏng hoặc không phải tệp CSV. Hãy xuất lại "
                              "tệp từ phần mềm một cửa, hoặc lưu lại dưới dạng .xlsx.", detail="NUL in text")
    return text


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return unicodedata.normalize("NFC", data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise ImportFileError("Tệp UTF-16 bị hỏng.", detail=f"utf-16: {exc.reason}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return unicodedata.normalize("NFC", data[3:].decode("utf-8", errors="replace"))
    if b"\x00" in data[:4096]:
        raise ImportFileError("Tệp không phải CSV hay Excel (.xlsx).", detail="binary data")
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Old Windows exports: the Vietnamese code page (tone marks as combining characters, hence NFC),
    # and latin-1 as the last resort (it never fails).
    try:
        return unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _delimiter(text: str) -> str:
    sample = [line for line in text.splitlines()[:30] if line.strip()]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _csv_rows(text: str) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, record in enumerate(reader, start=1):
            yield number, tuple(record)
    except csv.Error as exc:
        raise ImportFileError(f"Tệp CSV sai định dạng: {exc}.", detail=f"csv: {exc}") from exc
