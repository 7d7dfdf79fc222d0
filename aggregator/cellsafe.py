"""One neutraliser for every free-text cell written to a spreadsheet or CSV export.

Excel, LibreOffice and Google Sheets evaluate a cell whose text starts with ``=``, ``+``, ``-`` or ``@``
(and, after a tab or carriage return, what follows) as a formula: a field name ``=HYPERLINK(…)`` or
``=cmd|' /C calc'!A0`` would become a live link or a DDE command in the clerk's spreadsheet. Following
the OWASP CSV-injection guidance, such text is prefixed with an apostrophe so it is shown, never run.
Numbers stay numbers: ``int``/``float`` values pass untouched, and so does text that is only a plain
(possibly negative) number such as ``-12`` or ``-3,5``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula; then ``'`` + text."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    """Each cell of a row through :func:`neutralise`."""
    return [neutralise(value) for value in values]
