"""Intake on PostgreSQL: the reads before a rating's first write outside a transaction, and a rating's write that
commits itself.

On PostgreSQL every statement is a round trip, and psycopg begins a transaction with a ``BEGIN`` of its own (one
more). An API rating was four: ``BEGIN``, the key with its dossier, the one ``WITH`` of its writes
(``sipas.rating_statement``), ``COMMIT``. Worse under load: the ``WITH`` locks the unit's tally rows, which every
rating of the unit updates, and they stayed locked until the ``COMMIT`` came, after the Python thread had got the
result back and run to the commit (with 32 clients on 2 cores, often milliseconds); every other rating of the unit
waited meanwhile (seen in ``pg_stat_activity``: ``Lock: transactionid``, and ``idle in transaction``).

In an intake session (views marked ``sipas.storage.lock_on_write``, the same ones that take SQLite's write lock
only at their first write) the connection runs in autocommit until the first statement that is not a plain
``SELECT``; that statement begins the transaction (psycopg's ``BEGIN``), and everything from it on is one
transaction as before. Under READ COMMITTED, PostgreSQL's level and the one sipas uses, a read at the start of a
transaction sees what a read outside one sees (each statement its own snapshot, no lock taken), so nothing a view
decides changes; a ``SELECT … FOR UPDATE`` or ``FOR SHARE`` takes locks and begins the transaction like a write.

A caller whose write is the last of its transaction says so (``commits_alone``): when nothing was written before
it, the statement runs in autocommit, as its own transaction, which ends with it on the server; the caller's
``commit`` then has nothing left to do. An API rating is then two round trips (the key, the ``WITH``), and the
tally rows stay locked for the statement's own execution only.

Every other session (clerks' forms, jobs, the CLI) is transactional from its first statement, as it always was:
each transaction's ``begin`` decides for its connection.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event

#: The execution option of intake sessions (``sipas.storage.Database.intake_sessionmaker``).
OPTION = "postgresql_begin"
ON_WRITE = "on_write"
_ALONE = "sipas_commits_alone"
_LOCKING = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)


def install(engine: Engine) -> None:
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _begin_at_first_write)


def _idle(driver_connection: Any) -> bool:
    return bool(driver_connection.info.transaction_status == TransactionStatus.IDLE)


def _begin(connection: Connection) -> None:
    """A transaction begins (for SQLAlchemy; psycopg has sent nothing yet): an intake session's runs in autocommit
    until its first write, any other's is a transaction from its first statement. A connection asked for
    SQLAlchemy's ``AUTOCOMMIT`` isolation level (``ANALYZE``, ``VACUUM``, ``CREATE DATABASE``) is left as it is."""
    options = connection.get_execution_options()
    if (options.get("isolation_level") or getattr(connection.dialect, "isolation_level", None)) == "AUTOCOMMIT":
        return
    driver_connection: Any = connection.connection.driver_connection
    on_write = options.get(OPTION) == ON_WRITE
    if driver_connection.autocommit != on_write and _idle(driver_connection):
        driver_connection.autocommit = on_write


@functools.lru_cache(maxsize=1024)
def is_plain_read(statement: str) -> bool:
    """A ``SELECT`` that takes no row lock: the same outside a transaction as at the start of one. Remembered per
    statement string: an intake request sends the same few (compiled once, the same string object, its hash kept),
    and the locking clause's search over the API key's long read took 15-35 µs every request."""
    return statement.lstrip()[:6].upper() == "SELECT" and _LOCKING.search(statement) is None


def _begin_at_first_write(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    driver_connection: Any = connection.connection.driver_connection
    if not driver_connection.autocommit or connection.info.get(_ALONE) or is_plain_read(statement):
        return
    if connection.get_execution_options().get(OPTION) != ON_WRITE:
        return  # in autocommit not as an intake session: asked for (SQLAlchemy's AUTOCOMMIT level)
    driver_connection.autocommit = False  # psycopg sends BEGIN before this statement


@contextmanager
def commits_alone(connection: Connection) -> Iterator[None]:
    """Around a statement that is its transaction's last write: when nothing was written before it (an intake
    session on PostgreSQL still in autocommit), it runs as its own transaction, committed when it ends. Otherwise
    it runs in the transaction like any other, and the caller's commit ends it."""
    alone = connection.dialect.name == "postgresql" and bool(connection.connection.driver_connection.autocommit)
    # the dict itself: should the statement lose its connection, ``connection.info`` would raise and hide why
    info = connection.info
    if alone:
        info[_ALONE] = True
    try:
        yield
    finally:
        if alone:
            info.pop(_ALONE, None)
