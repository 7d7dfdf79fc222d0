"""URL converters that refuse values no database column can hold.

Werkzeug's ``int`` converter takes any number of digits, so ``/cong-khai/<unit>/<huge>/1.pdf`` handed a
Python int beyond 64 bits to the database driver (SQLite: OverflowError; PostgreSQL: "integer out of
range") and the public page answered 500. Every id and number in a path is an ``INTEGER`` column
(32 bits on PostgreSQL), so a path value above that range matches no route: a plain 404.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

INT_COLUMN_MAX = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER column holds (and at most 10 digits, so no huge parse)."""

    regex = r"\d{1,10}"

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", INT_COLUMN_MAX)
        super().__init__(map, *args, **kwargs)


def install(app: Flask) -> None:
    """Call before any route is registered: rules bind their converter when they are added."""
    app.url_map.converters["int"] = BoundedIntegerConverter
