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
def _layout(model: type) -> tuple[Any, tuple[str, ...], tuple[tuple[Column[Any], str], ...]]:
    """The model's mapper, primary-key attribute names and (column, attribute name) of every mapped column."""
    mapper = inspect(model)
    attributes = tuple((prop.columns[0], prop.key) for prop in mapper.column_attrs)
    names = dict(attributes)
    return mapper, tuple(names[column] for column in mapper.primary_key), attributes


def persistent(session: Session, model: type[T], row: Mapping[Any, Any]) -> T:
    """The object of ``row`` (a Core row mapping keyed by the model's ``Column`` objects) in ``session``."""
    return loaded(session, model, {name: row[column] for column, name in _layout(model)[2]})


def loaded(session: Session, model: type[T], values: Mapping[str, Any]) -> T:
    """The object with these attribute values (the primary key's among them) in ``session``, as if loaded: what a
    Core statement just read, or just wrote (``store_response``). Attributes not given load when first read."""
    mapper, primary_key, _attributes = _layout(model)
    existing = session.identity_map.get(mapper.identity_key_from_primary_key([values[name] for name in primary_key]))
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # As the ORM's loader fills an object: straight into its __dict__ (no attribute events, no history; the
    # constructor's instrumented setters took three times as long), then marked as loaded with that identity.
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance  # type: ignore[no-any-return]
