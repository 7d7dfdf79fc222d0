"""Finding the header row of a spreadsheet and naming its columns.

Exports put title rows above the header ("BÁO CÁO ...", merged across the sheet), sometimes split the
header over two rows (a merged "Ngày" above "Tiếp nhận | Hẹn trả | Trả kết quả") and sometimes add a
row of column numbers "(1) (2) (3)" under it. Headers are matched folded: "Mã hồ sơ", "Ma ho so",
"MA_HO_SO" are the same column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sipas.imports.reader import Row
from sipas.text import fold

HEADER_SEARCH_ROWS = 30

_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,3})\)?$")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_DATA_LIKE = re.compile(r"\d[/.:-]\d|\d{4,}|@")

CODE_HEADERS = frozenset({
    "ma ho so", "so ho so", "ma so ho so", "ma hs", "so hs", "ma ho so tthc", "so ho so tthc", "ma bien nhan",
    "so bien nhan", "ma", "code", "dossier code", "dossier", "ma ho so danh gia",
})


def header_key(text: str) -> str:
    """Folded header without parenthesised hints: "Ngày tiếp nhận (dd/mm/yyyy)" → "ngay tiep nhan"."""
    return fold(_PARENS.sub(" ", text)) or fold(text)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


@dataclass
class Header:
    row: int
    #: column index → header candidates, best first (a two-row header gives "Ngày / Tiếp nhận", "Tiếp nhận", ...)
    candidates: dict[int, list[str]]
    rows: Iterator[tuple[int, Row]]

    def resolve(self, match: Callable[[str], object | None]) -> dict[int, tuple[str, object | None]]:
        """Column index → (header as shown, what ``match`` made of it or None)."""
        resolved: dict[int, tuple[str, object | None]] = {}
        for index, names in self.candidates.items():
            found = next(((name, m) for name in names if (m := match(header_key(name))) is not None), None)
            resolved[index] = found or (names[0], None)
        return resolved


def find_header(rows: Iterator[tuple[int, Row]], is_key: Callable[[str], bool] = CODE_HEADERS.__contains__
                ) -> Header | None:
    """The first row (among the first 30 non-blank ones) with a key column header (by default "mã hồ sơ")."""
    seen = 0
    for number, row in rows:
        texts = [cell_text(v) for v in row]
        if not any(texts):
            continue
        seen += 1
        key_index = next((i for i, t in enumerate(texts) if t and is_key(header_key(t))), None)
        if key_index is not None:
            return _complete_header(number, texts, key_index, rows)
        if seen >= HEADER_SEARCH_ROWS:
            return None
    return None


def _complete_header(number: int, texts: list[str], key_index: int, rows: Iterator[tuple[int, Row]]) -> Header:
    parent = {i: t for i, t in enumerate(texts) if t}
    following = next(rows, None)
    if following is None:
        return Header(number, {i: [t] for i, t in parent.items()}, iter(()))
    next_number, next_row = following
    if _is_column_numbers(next_row):
        return Header(number, {i: [t] for i, t in parent.items()}, rows)
    if _is_sub_header(next_row, key_index, parent):
        sub = {i: cell_text(v) for i, v in enumerate(next_row) if cell_text(v)}
        return Header(next_number, _combine(parent, sub), _skip_column_numbers(rows))
    return Header(number, {i: [t] for i, t in parent.items()}, _chain(following, rows))


def _combine(parent: dict[int, str], sub: dict[int, str]) -> dict[int, list[str]]:
    combined: dict[int, list[str]] = {}
    group: str | None = None
    for index in range(max([*parent, *sub]) + 1):
        top, below = parent.get(index), sub.get(index)
        if top is not None:
            group = top if below is not None else None  # a merged group header spans the sub-headers
        if below is not None:
            combined[index] = [f"{group} / {below}", below, group] if group else [below]
        elif top is not None:
            combined[index] = [top]
    return combined


def _is_sub_header(row: Row, key_index: int, parent: dict[int, str]) -> bool:
    """Below the header, a row of words without a dossier code, with some under a merged (blank) parent cell.

    A data row that lacks its code has a value under every header instead, and digits or dates somewhere.
    """
    cells = {i: v for i, v in enumerate(row) if cell_text(v)}
    if not cells or key_index in cells:
        return False
    if not all(isinstance(v, str) and _WORDS.search(v) and not _DATA_LIKE.search(v) for v in cells.values()):
        return False
    return any(i not in parent for i in cells)


def _is_column_numbers(row: Row) -> bool:
    numbers = [cell_text(v) for v in row if cell_text(v)]
    if len(numbers) < 2:
        return False
    matches = [_COLUMN_NUMBER.match(n) for n in numbers]
    if not all(matches):
        return False
    values = [int(m.group(1)) for m in matches if m]
    return values == list(range(values[0], values[0] + len(values)))


def _skip_column_numbers(rows: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    first = next(rows, None)
    if first is None:
        return iter(())
    return rows if _is_column_numbers(first[1]) else _chain(first, rows)


def _chain(first: tuple[int, Row], rest: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    yield first
    yield from rest
