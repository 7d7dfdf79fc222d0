"""Engine and session setup; the one module of the core that knows Flask.

A request gets one session (``db_session()``), closed at teardown. Services flush; the route or
job that called them commits once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from sipas.settings import Settings

#: FULL: a commit returns only once the WAL is synced to disk, so an acknowledged rating survives a
#: power loss (NORMAL may lose the last transactions). Cost measured by bench/sqlite_synchronous.py.
SQLITE_SYNCHRONOUS = "FULL"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred transaction that read first and writes later fails at once with "database is
    # locked" when another writer committed in between (busy_timeout does not help). Sessions that
    # write take the write lock at BEGIN so writers queue instead and the unique constraint decides
    # duplicates; read-only sessions stay deferred so they never block writers (WAL).
    immediate = connection.get_execution_options().get("sqlite_begin") == "immediate"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_autocommit_driver)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # hide_parameters: an error logged with its SQL must not carry phone numbers or comments.
    return create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)


class Database:
    """``sessionmaker`` is for work that writes (on SQLite it begins IMMEDIATE); ``read_sessionmaker``
    for work that only reads (GET pages). On PostgreSQL both are the same."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url)
        self.sessionmaker = sessionmaker(self.engine.execution_options(sqlite_begin="immediate"),
                                         expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for CLI commands and jobs: commits on success, rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    app.extensions["sipas_db"] = database
    app.teardown_appcontext(_close_session)


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["sipas_db"]


def db_session() -> Session:
    """The session of the current request or app context (a read session for GET/HEAD requests)."""
    if "sipas_session" not in g:
        database = get_database()
        reading = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        g.sipas_session = (database.read_sessionmaker if reading else database.sessionmaker)()
    return g.sipas_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("sipas_session", None)
    if session is not None:
        session.close()
