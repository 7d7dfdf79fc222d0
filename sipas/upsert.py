"""The ``INSERT`` that can say ``ON CONFLICT`` on the database in use (SQLite and PostgreSQL spell it alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect_name: str, table: Any) -> Any:
    """``insert(table)`` of the dialect named ``dialect_name``, with ``on_conflict_do_nothing`` / ``_do_update``."""
    return (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(table)
