"""The statements a request runs, seen through the engine's ``before_cursor_execute`` event."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event

from sipas.storage import get_database


def selects(app: Flask) -> tuple[list[str], Callable[[], None]]:
    """Every SELECT run from now on (but the once-per-process read of an instrument version's record,
    ``sipas.instrument_records``), and the function that stops listening."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM instrument_version_record" not in statement:
            seen.append(statement)

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", before)
    return seen, lambda: event.remove(engine, "before_cursor_execute", before)
