"""The values of a worksheet's rows, read straight from its XML with expat.

They are exactly what openpyxl's read-only ``iter_rows(values_only=True)`` yields after ``reset_dimensions()``
(``tests/imports/test_xlsx_rows.py`` compares the two on varied workbooks): the same cell rules (openpyxl's
``WorkSheetParser.parse_cell`` with ``data_only``: cached values of formulas, numbers as ``int`` or ``float``,
dates by the cell's number format and the workbook's epoch, shared and inline strings, booleans, error codes as
text) and the same rows (numbered as the file numbers them, missing rows as empty ones, each as wide as its last
cell). openpyxl itself is still what opens the workbook (its sheets, shared strings, styles and epoch).

Why: with ``defusedxml`` installed (a dependency of CairoSVG), openpyxl parses a sheet with defusedxml's
pure-Python tree builder, then makes a dictionary per cell: reading the cells was half of a 20,000-row import.
Here expat calls three small handlers. The protection defusedxml gives is kept: no entity declarations, no
external references, no parameter entities (an XLSX part has no DTD).
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from typing import IO, Any
from warnings import warn
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from openpyxl.cell.text import Text
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import _cast_number

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SEP = "}"  # expat joins namespace and name with it: "ns}name"; ElementTree's spelling is "{ns}name"
_ROW, _VALUE, _INLINE, _ITEM = (f"{SHEET_NS}{_SEP}{name}" for name in ("row", "v", "is", "si"))
_TEXT_TAG = f"{{{SHEET_NS}}}t"
_CHUNK = 1 << 16


class ForbiddenXml(ValueError):
    """An entity declaration or an external reference in a worksheet (what defusedxml refuses)."""


def _forbid(*_args: object) -> None:
    raise ForbiddenXml("entity declarations and external references are not allowed in a worksheet")


def _inline_text(element: Element) -> str:
    """``Text.from_tree(element).content`` (openpyxl), without building its objects for the usual ``<is><t>``."""
    if not element.attrib and all(child.tag == _TEXT_TAG for child in element):
        last = element[-1].text if len(element) else None  # openpyxl keeps the last <t>
        return last if last is not None else ""
    return Text.from_tree(element).content


class _Parser:
    """expat's handlers, building the rows of one sheet: ``rows`` gets ``(number, cells)`` as each row ends, a
    cell being ``(column, value)``."""

    def __init__(self, shared_strings: list[Any], epoch: Any, date_formats: set[int],
                 timedelta_formats: set[int]) -> None:
        self.shared_strings, self.epoch = shared_strings, epoch
        self.date_formats, self.timedelta_formats = date_formats, timedelta_formats
        self.rows: list[tuple[int, list[tuple[int, Any]]]] = []
        self.depth = 0
        self.row_depth = -2  # the depth of the open <row>, -2 outside one
        self.row_number = self.column = 0
        self.cells: list[tuple[int, Any]] = []
        self.cell: dict[str, str] | None = None
        self.value: list[str] | None = None  # the text of the cell's first <v>, while inside it
        self.value_depth = 0
        self.value_text: str | None = None
        self.seen_value = False
        self.inline: TreeBuilder | None = None  # the cell's first <is>, while inside it
        self.inline_depth = 0
        self.inline_element: Element | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        depth = self.depth
        if self.inline is not None:
            self.inline.start(_element_tag(name), _element_attrs(attrs))
        elif self.value is not None:
            self.value_text, self.value = "".join(self.value), None  # findtext: the <v>'s text before a child
        elif depth == self.row_depth + 1:  # every child of a row is a cell to openpyxl
            self.cell, self.value_text, self.seen_value, self.inline_element = attrs, None, False, None
        elif depth == self.row_depth + 2 and self.cell is not None:
            if name == _VALUE and not self.seen_value:
                self.value, self.value_depth, self.seen_value = [], depth, True
            elif name == _INLINE and self.inline_element is None:
                self.inline, self.inline_depth = TreeBuilder(), depth
                self.inline.start(_element_tag(name), _element_attrs(attrs))
        elif name == _ROW and self.row_depth == -2:
            self._open_row(attrs)

    def text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)
        elif self.inline is not None:
            self.inline.data(data)

    def end(self, name: str) -> None:
        depth = self.depth
        self.depth -= 1
        if self.inline is not None:
            self.inline.end(_element_tag(name))
            if depth == self.inline_depth:
                self.inline_element, self.inline = self.inline.close(), None
        elif self.value is not None:
            if depth == self.value_depth:
                self.value_text, self.value = "".join(self.value), None
        elif depth == self.row_depth + 1 and self.cell is not None:
            self.cells.append(self._cell(self.cell))
            self.cell = None
        elif depth == self.row_depth:
            self.rows.append((self.row_number, self.cells))
            self.row_depth, self.cells = -2, []

    def _open_row(self, attrs: dict[str, str]) -> None:
        """``WorkSheetParser.parse_row``: the row's number, or the next one."""
        if "r" in attrs:
            try:
                self.row_number = int(attrs["r"])
            except ValueError:
                number = float(attrs["r"])
                if not number.is_integer():
                    raise ValueError(f"{attrs['r']} is not a valid row number") from None
                self.row_number = int(number)
        else:
            self.row_number += 1
        self.column, self.row_depth, self.cells = 0, self.depth, []

    def _cell(self, attrs: dict[str, str]) -> tuple[int, Any]:
        """``WorkSheetParser.parse_cell`` (``data_only``): the cell's column and value."""
        data_type = attrs.get("t", "n")
        style: Any = attrs.get("s", 0)
        if style:
            style = int(style)
        value: Any = None if data_type == "inlineStr" else (self.value_text or None)
        coordinate = attrs.get("r")
        if coordinate:
            self.column = coordinate_to_tuple(coordinate)[1]
        else:
            self.column += 1
        if value is not None:
            if data_type == "n":
                value = _cast_number(value)
                if style in self.date_formats:
                    try:
                        value = from_excel(value, self.epoch, timedelta=style in self.timedelta_formats)
                    except (OverflowError, ValueError):
                        warn(f"Cell {coordinate} is marked as a date but the serial value {value} is outside the "
                             "limits for dates. The cell will be treated as an error.", stacklevel=2)
                        value = "#VALUE!"
            elif data_type == "s":
                value = self.shared_strings[int(value)]
            elif data_type == "b":
                value = bool(int(value))
            elif data_type == "d":
                value = from_ISO8601(value)
        elif data_type == "inlineStr" and self.inline_element is not None:
            value = _inline_text(self.inline_element)
        return self.column, value


@functools.lru_cache(maxsize=512)
def _element_tag(name: str) -> str:
    """expat's ``ns}name`` as ElementTree spells it, ``{ns}name`` (a handful of distinct names in a real file)."""
    namespace, sep, local = name.rpartition(_SEP)
    return f"{{{namespace}}}{local}" if sep else name


def _element_attrs(attrs: dict[str, str]) -> dict[str, str]:
    return {_element_tag(key): value for key, value in attrs.items()} if attrs else attrs


def _expat(start: Any, end: Any, text: Any) -> Any:
    """An expat parser with these handlers, refusing what defusedxml refuses."""
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


class _SharedStrings:
    """expat's handlers for the shared strings: each ``<si>`` built as an element, then read as openpyxl reads it."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.builder: TreeBuilder | None = None
        self.depth = self.item_depth = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.builder is None and name == _ITEM:
            self.builder, self.item_depth = TreeBuilder(), self.depth
        if self.builder is not None:
            self.builder.start(_element_tag(name), _element_attrs(attrs))

    def text(self, data: str) -> None:
        if self.builder is not None:
            self.builder.data(data)

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.builder is not None:
            self.builder.end(_element_tag(name))
            if self.depth < self.item_depth:
                self.strings.append(_inline_text(self.builder.close()).replace("x005F_", ""))
                self.builder = None


def shared_strings(source: IO[bytes]) -> list[str]:
    """``openpyxl.reader.strings.read_string_table``: the text of every ``<si>``, in order."""
    handlers = _SharedStrings()
    parser = _expat(handlers.start, handlers.end, handlers.text)
    while chunk := source.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return handlers.strings


class WorkbookReader(ExcelReader):
    """openpyxl's reader (read-only, values only) with the shared strings read by ``shared_strings``: an export
    saved by Excel keeps every distinct text there, the codes and dates of every row included."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), read_only=True, data_only=True)

    def read_strings(self) -> None:
        content_type = self.package.find(SHARED_STRINGS)
        if content_type is not None:
            with self.archive.open(content_type.PartName[1:]) as source:
                self.shared_strings = shared_strings(source)


def load_values(data: bytes) -> Any:
    """The workbook, opened as ``load_workbook(read_only=True, data_only=True)`` opens it."""
    reader = WorkbookReader(data)
    reader.read()
    return reader.wb


def sheet_rows(worksheet: Any) -> Iterator[tuple[object, ...]]:
    """The rows of a read-only openpyxl worksheet as tuples of values, from row 1 (see the module's docstring)."""
    workbook = worksheet.parent
    parser = _Parser(worksheet._shared_strings, workbook.epoch, workbook._date_formats,
                     workbook._timedelta_formats)
    expat_parser = _expat(parser.start, parser.end, parser.text)
    counter = 1
    with worksheet._get_source() as source:
        while True:
            chunk = source.read(_CHUNK)
            expat_parser.Parse(chunk, not chunk)
            for number, cells in parser.rows:
                while counter < number:  # rows the file leaves out
                    counter += 1
                    yield ()
                if counter <= number:
                    counter += 1
                    yield _values(cells)
            parser.rows.clear()
            if not chunk:
                return


_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=\"([A-Z]{1,3}[0-9]{1,7}):([A-Z]{1,3}[0-9]{1,7})\"")


def merged_cells(worksheet: Any) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only worksheet as (first row, first column, last row, last column).

    They follow the rows in the sheet's XML, so the part is read through once more, as bytes (no parsing): a
    fraction of reading its cells."""
    ranges: list[tuple[int, int, int, int]] = []
    tail = b""
    with worksheet._get_source() as source:
        while True:
            chunk = source.read(_CHUNK)
            window = tail + chunk
            end = 0
            for match in _MERGE.finditer(window):
                (top, left), (bottom, right) = (coordinate_to_tuple(c.decode()) for c in match.groups())
                ranges.append((top, left, bottom, right))
                end = match.end()
            if not chunk:
                return ranges
            tail = window[max(end, len(window) - 256):]  # a tag cut by the chunk's end is found next time


def _values(cells: list[tuple[int, Any]]) -> tuple[object, ...]:
    """``ReadOnlyWorksheet._get_row``: as wide as the row's last cell, a cell's value at its column."""
    if not cells:
        return ()
    width = cells[-1][0]
    row: list[object] = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            row[column - 1] = value
    return tuple(row)
