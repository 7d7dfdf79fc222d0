"""ORM objects from rows read by a Core statement: the lookups every rating and kiosk poll makes.

An ORM ``select`` builds its row processors anew for every execution: for one row of a wide table
(a unit, a dossier) that took longer than reading the row (about 100 µs against 30 µs for a Core
statement built once, measured in docs/performance.md). ``persistent`` makes the object the ORM
would have loaded: in the session's identity map, no pending change, relationships loaded lazily as
usual. An object of the same identity already in the session is returned as it is, as a query would.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Column, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

T = TypeVar("T")


@functools.cache
def _layout(model: type) -> tuple[Any, tuple[Column[Any], ...], tuple[tuple[Column[Any], str], ...]]:
    """The model's mapper, primary-key columns and (column, attribute name) of every mapped column."""
    mapper = inspect(model)
    return mapper, tuple(mapper.primary_key), tuple((prop.columns[0], prop.key) for prop in mapper.column_attrs)


def persistent(session: Session, model: type[T], row: Mapping[Any, Any]) -> T:
    """The object of ``row`` (a Core row mapping keyed by the model's ``Column`` objects) in ``session``."""
    mapper, primary_key, attributes = _layout(model)
    existing = session.identity_map.get(mapper.identity_key_from_primary_key([row[c] for c in primary_key]))
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # As the ORM's loader fills an object: straight into its __dict__ (no attribute events, no history; the
    # constructor's instrumented setters took three times as long), then marked as loaded with that identity.
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update({name: row[column] for column, name in attributes})
    make_transient_to_detached(instance)
    session.add(instance)
    return instance  # type: ignore[no-any-return]
