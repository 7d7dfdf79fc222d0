"""Core statements compiled once and run straight on the driver's cursor: the reads and writes of every rating.

SQLAlchemy's execution of a statement (its execution context, the compiled-cache lookup, the result's set-up)
took longer than SQLite took to run it: of the 2.2 ms a rating cost in-process, ~0.6 ms was that bookkeeping
around five small writes (py-spy, docs/performance.md). A ``DriverStatement`` is compiled once per dialect, with
the bind processors SQLAlchemy itself would apply (dates and times, enums, booleans), and runs on the
connection's own DBAPI cursor. What must not change does not: the connection's ``before_cursor_execute`` and
``after_cursor_execute`` listeners still see every statement (SQLite's intake write lock is taken in one,
``sipas.storage``), and a driver error becomes SQLAlchemy's exception through the connection's own handler
(a lost connection is invalidated, ``sipas.failures`` maps it), as for any statement.

A SELECT's rows come back as dicts keyed like ``Row._mapping`` (``sipas.orm_rows.persistent`` takes them).

Only plain statements qualify: no expanding ``IN`` or other parameters rendered at execution time (checked at
compile time; ``or_(column == a, column == b)`` instead of ``column.in_((a, b))``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.expression import Executable, Label


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]
    #: the values of parameters the statement itself holds (``column == "literal"``)
    defaults: dict[str, Any]
    #: a SELECT's columns: the keys each value is found under (its column, and a label's name), and how each is read
    result_keys: tuple[tuple[Any, ...], ...]
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    # parameters() runs for every row of every rating (a 12-answer rating: ~50 rows of ~10 values): the values
    # taken by one itemgetter, and only the few that have a processor (dates, enums) passed through it
    _get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    _processed: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = self.names
        get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            (lambda given: ()) if not names else (lambda given: (given[names[0]],)) if len(names) == 1
            else itemgetter(*names))
        object.__setattr__(self, "_get", get)  # frozen
        object.__setattr__(self, "_processed", tuple((i, process) for i, process in enumerate(self.processors)
                                                     if process is not None))

    def values(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if process is None or value is None else process(value)
                     for process, value in zip(self.result_processors, row, strict=True))

    def mapping(self, row: Sequence[Any]) -> dict[Any, Any]:
        return {key: value for keys, value in zip(self.result_keys, self.values(row), strict=True) for key in keys}

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        given = self.defaults | dict(values) if self.defaults else values
        found: Any = self._get(given)
        if self._processed:
            found = list(found)
            for i, process in self._processed:
                found[i] = process(found[i])
            found = tuple(found)
        return found if self.positional else dict(zip(self.names, found, strict=True))


class DriverStatement:
    """``statement`` (an INSERT, UPDATE or SELECT of Core) run on the DBAPI cursor with parameters named
    ``keys`` (for an INSERT without ``values()``: the columns it sets, as ``Connection.execute`` would infer
    them from its parameters)."""

    def __init__(self, statement: Executable, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name) or self._compile(dialect)
                self._compiled[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=self.keys)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a DriverStatement takes no parameters rendered at execution time")
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
        processors = tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names)
        selected = tuple(getattr(self.statement, "selected_columns", ()))
        if selected and len(selected) != len(compiled._result_columns):
            raise ValueError("a DriverStatement reads each selected column once")
        result_keys = tuple((column, column.name) if isinstance(column, Label) else (column,) for column in selected)
        result_processors = tuple(column.type._cached_result_processor(dialect, None) for column in selected)
        defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        return _Compiled(compiled.string, names, positional, processors, defaults, result_keys, result_processors)

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Run with one set of ``values``; the DBAPI cursor, its rows not yet fetched (the caller closes it)."""
        compiled = self.compiled(connection.dialect)
        return _run(connection, compiled.sql, compiled.parameters(values), many=False)

    def run(self, connection: Connection, values: Mapping[str, Any]) -> None:
        """Run an INSERT, UPDATE or DELETE whose result nobody reads."""
        self.execute(connection, values).close()

    def _fetch(self, connection: Connection, values: Mapping[str, Any]) -> tuple[_Compiled, list[Any]]:
        cursor = self.execute(connection, values)
        try:
            return self.compiled(connection.dialect), cursor.fetchall()
        finally:
            cursor.close()

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[Any, Any]]:
        """A SELECT's rows, each a dict keyed by its selected columns (as ``Row._mapping``) and its labels' names,
        the values read as SQLAlchemy would have read them."""
        compiled, rows = self._fetch(connection, values)
        return [compiled.mapping(row) for row in rows]

    def tuples(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """A SELECT's rows as tuples in the order of its columns, read as ``all`` reads them."""
        compiled, rows = self._fetch(connection, values)
        return [compiled.values(row) for row in rows]

    def scalar(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        rows = self.tuples(connection, values)
        return rows[0][0] if rows else None

    def returned(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a statement with ``RETURNING``; its first row as the driver gives it (ids, counts), or None."""
        cursor = self.execute(connection, values)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return tuple(row) if row is not None else None

    def rowcount(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run an UPDATE or DELETE; the number of rows it matched."""
        cursor = self.execute(connection, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> dict[Any, Any] | None:
        """The first row of ``all``, or None."""
        rows = self.all(connection, values)
        return rows[0] if rows else None

    def executemany(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once for each of ``rows`` (the driver's ``executemany``)."""
        compiled = self.compiled(connection.dialect)
        _run(connection, compiled.sql, [compiled.parameters(row) for row in rows], many=True).close()


def _run(connection: Connection, sql: str, parameters: Any, *, many: bool) -> Any:
    listening = connection._has_events or connection.engine._has_events
    cursor = None
    try:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if listening:
            for before in connection.dispatch.before_cursor_execute:
                sql, parameters = before(connection, cursor, sql, parameters, None, many)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        if listening:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, many)
    except BaseException as exc:
        if cursor is not None:
            cursor.close()
        connection._handle_dbapi_exception(exc, sql, parameters, cursor, None)
    return cursor
