"""Alembic environment. The URL comes from the caller (``sipas.migrate``), never from a file."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event, text

from sipas.models import Base
from sipas.plugins import load_all_models
from sipas.storage import make_engine

load_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "connect", _sqlite_foreign_keys_off)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
        if sqlite:
            _check_foreign_keys(conn)
    engine.dispose()


def _sqlite_foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    """Batch migrations rebuild a SQLite table (copy, DROP, rename). With foreign keys on, the DROP would
    cascade: rebuilding ``response`` deleted every ``answer`` row. SQLite's own procedure for altering a
    table is to switch enforcement off (possible only outside a transaction, hence at connect) and to check
    the keys afterwards."""
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def _check_foreign_keys(connection) -> None:  # type: ignore[no-untyped-def]
    broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    connection.rollback()
    if broken:
        raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
