"""Units (wards, communes, districts) and the scope a unit or a user covers."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, literal, select
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.driver_statements import DriverStatement
from sipas.errors import UnknownUnit, ValidationError
from sipas.models import Unit, UnitKind
from sipas.orm_rows import persistent
from sipas.parsing import clean_text


def get_unit(session: Session, code: str) -> Unit:
    """The unit of ``code``, spaces around it ignored as creation drops them (a code pasted into --unit or a
    request's ``unit``); ``UnknownUnit`` when there is none."""
    code = code.strip()
    row = _BY_CODE.first(session.connection(), {"code": code})
    unit = persistent(session, Unit, row) if row is not None else None
    if unit is None:
        raise UnknownUnit(f"Không tìm thấy đơn vị “{code}”.", field="unit", detail=f"unknown unit {code!r}")
    return unit


# built once, on the driver's cursor (sipas.orm_rows, sipas.driver_statements)
_BY_CODE = DriverStatement(select(Unit.__table__).where(Unit.__table__.c.code == bindparam("code")))


def descendants(session: Session, unit: Unit) -> list[Unit]:
    """The unit and every unit below it (a district's wards, a province's districts and wards): the unit first,
    then level by level, each level by code.

    One recursive statement on the driver's cursor, the objects made as the ORM would load them
    (``sipas.orm_rows``): a province's report read its 150 units level by level through the ORM's loader in
    4.4 ms, about as long as a district's whole report takes to read its tallies."""
    found = [persistent(session, Unit, row) for row in _TREE.all(_flushed(session), {"root": unit.id})]
    return [unit, *found]


def _flushed(session: Session) -> Connection:
    """The session's connection, with a unit added in this session flushed first, as an ORM query would."""
    if session.autoflush:
        session.flush()
    return session.connection()


def _tree_statement(*columns: Any) -> Select[Any]:
    """``columns`` of the units below ``:root``, ordered by depth then code (``descendants``,
    ``descendant_ids``)."""
    units = Unit.__table__
    tree = select(units.c.id, literal(0).label("depth")).where(units.c.id == bindparam("root")).cte(
        "tree", recursive=True)
    tree = tree.union_all(select(units.c.id, (tree.c.depth + 1).label("depth"))
                          .where(units.c.parent_id == tree.c.id))
    return (select(*columns).join(tree, units.c.id == tree.c.id).where(tree.c.depth > 0)
            .order_by(tree.c.depth, units.c.code))


# built once, on the driver's cursor
_TREE = DriverStatement(_tree_statement(Unit.__table__))
_TREE_IDS = DriverStatement(_tree_statement(Unit.__table__.c.id))


_LEAVES = "sipas_leaf_units"  # session.info: ids of units this session read to have no unit below them


def note_leaf(session: Session, unit_id: int) -> None:
    """Remember for this session that a query just read the unit to have no unit below it (the API key's lookup
    reads that with the key), so that ``descendant_ids`` needs no query of its own."""
    session.info.setdefault(_LEAVES, set()).add(unit_id)


def descendant_ids(session: Session, unit: Unit) -> list[int]:
    """The ids of ``descendants`` (the unit's first), in the same order, without loading the units."""
    if unit.id in session.info.get(_LEAVES, ()):
        return [unit.id]
    return [unit.id, *(row[0] for row in _TREE_IDS.tuples(_flushed(session), {"root": unit.id}))]


def covers(session: Session, scope: Unit, unit: Unit) -> bool:
    return unit.id in descendant_ids(session, scope)


#: what a unit code may hold: it is the last part of the kiosk's, the console's and the public pages' addresses
#: (``/kiosk/<code>``), where a "/" made the unit unreachable and "?", "#", "%" need escaping, and letters with
#: marks could be stored composed or decomposed (two codes that look the same)
_CODE = re.compile(r"[A-Za-z0-9._-]+")


#: the levels of local government, top down: a unit is created only below a unit of a higher level (a ward
#: below a district or, since the two tiers of 01/7/2025, directly below a province; never below a ward)
_LEVEL = {UnitKind.PROVINCE: 0, UnitKind.DISTRICT: 1, UnitKind.WARD: 2, UnitKind.COMMUNE: 2}
KIND_LABELS = {UnitKind.PROVINCE: "tỉnh/thành phố", UnitKind.DISTRICT: "quận/huyện", UnitKind.WARD: "phường",
               UnitKind.COMMUNE: "xã"}


def can_have_units_below(unit: Unit) -> bool:
    """A province or a district: a ward or commune has no unit below it."""
    return _LEVEL[unit.kind] < max(_LEVEL.values())


def create_unit(
    session: Session,
    *,
    code: str,
    name: str,
    kind: UnitKind = UnitKind.WARD,
    parent: Unit | None = None,
    actor: str,
    **fields: object,
) -> Unit:
    code = code.strip()
    if not code or len(code) > 64 or any(ch.isspace() for ch in code):
        raise ValidationError("Mã đơn vị không hợp lệ (không dấu cách, tối đa 64 ký tự).", field="code",
                              detail=f"bad unit code {code!r}")
    if not _CODE.fullmatch(code):
        raise ValidationError("Mã đơn vị chỉ gồm chữ cái không dấu, chữ số và các dấu . - _ "
                              "(ví dụ PHUONG-PHUHOI).", field="code", detail=f"bad unit code {code!r}")
    # a code differing only in case is the same code to anyone typing it (the CLI's --unit, a kiosk's address)
    existing = session.scalar(select(Unit.code).where(func.lower(Unit.code) == code.lower()).limit(1))
    if existing is not None:
        raise ValidationError(f"Mã đơn vị “{existing}” đã tồn tại.", field="code", detail="unit code exists")
    if parent is not None and _LEVEL[kind] <= _LEVEL[parent.kind]:
        raise ValidationError(f"Không thể tạo {KIND_LABELS[kind]} trực thuộc {parent.name} "
                              f"({KIND_LABELS[parent.kind]}): đơn vị trực thuộc phải ở cấp dưới "
                              "(tỉnh/thành phố → quận/huyện → phường/xã).",
                              field="parent", detail=f"a {kind} below a {parent.kind}")
    # as typed composed, whatever the keyboard (Unikey, a Mac); required and within the column, as the console's form
    name = clean_text(unicodedata.normalize("NFC", name), field="name", max_length=_NAME_LENGTH, required=True)
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None, **fields)
    for field, value in named_defaults(name).items():
        if not getattr(unit, field):
            setattr(unit, field, value)
    session.add(unit)
    session.flush()
    audit(session, "unit.created", actor=actor, unit=unit, subject=code)
    return unit


def named_defaults(name: str) -> dict[str, str]:
    """The notice fields a unit gets from its name when none is given: the issuing body and the place. A body
    too long for its column is left empty: the notice then prints "ỦY BAN NHÂN DÂN" over the name all the same
    (``aggregator.notices.viewmodel.body_lines``)."""
    body = f"ỦY BAN NHÂN DÂN\n{name.upper()}"
    return {"issuing_body": body if len(body) <= _BODY_LENGTH else "", "place_name": name}


_NAME_LENGTH = Unit.__table__.c.name.type.length
_BODY_LENGTH = Unit.__table__.c.issuing_body.type.length


def renamed_defaults(unit: Unit, new_name: str, changes: dict[str, object]) -> dict[str, str]:
    """The notice fields that follow a rename to ``new_name``: those still as derived from the old name and not
    changed in the same edit (a body or place typed by hand stays as typed)."""
    old, new = named_defaults(unit.name), named_defaults(new_name)
    return {field: new[field] for field in old if field not in changes and getattr(unit, field) == old[field]}


def change_kiosk_instrument(unit: Unit, code: str, *, now: datetime) -> None:
    """Switch the unit's kiosk form, remembering the old one: ratings a citizen began (or a kiosk
    queued offline) under it before the switch are still taken (kiosk.services.submit)."""
    if code == unit.default_instrument:
        return
    unit.previous_instrument, unit.instrument_changed_at = unit.default_instrument, now
    unit.default_instrument = code
