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
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

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
    mapper, primary_key, attributes = _layout(model)
    key = mapper.identity_key_from_primary_key([values[name] for name in primary_key])
    identity_map = session.identity_map
    existing = identity_map.get(key)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # As the ORM's loader (``sqlalchemy.orm.loading._instance``) makes the object of a row: the values straight
    # into its __dict__ (no attribute events, no history; the constructor's instrumented setters took three times
    # as long), the identity key and session set on its state, the state put into the identity map; the columns
    # not given marked expired, so they load on first read. Not ``make_transient_to_detached`` + ``Session.add``:
    # the add's save-update cascade walks every relationship of the model, 10-14 µs an object, and a rating makes
    # four to six (docs/performance.md). No object events are listened to, so none is missed.
    instance = mapper.class_manager.new_instance()
    state = instance_state(instance)
    instance.__dict__.update(values)
    missing = [name for _column, name in attributes if name not in values]
    if missing:
        state._expire_attributes(state.dict, missing)
    state.key = key
    state.identity_token = key[2]
    state.session_id = session.hash_key
    identity_map._add_unpresent(state, key)
    return instance  # type: ignore[no-any-return]
