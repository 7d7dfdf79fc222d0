"""``sipas.orm_rows.persistent``: an object made from a Core row behaves as one the ORM loaded."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import Mapper

from sipas.models import Dossier, Unit
from sipas.orm_rows import loaded, persistent
from tests.factories import create_dossier, create_unit


def _row(session, table, id_):
    return session.connection().execute(select(table).where(table.c.id == id_)).first()._mapping


def test_the_object_equals_the_loaded_one_and_has_no_pending_change(app, session):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    session.commit()
    session.expunge_all()
    made = persistent(session, Dossier, _row(session, Dossier.__table__, dossier.id))
    state = inspect(made)
    assert state.persistent and not state.modified and made in session
    columns = [c.key for c in inspect(Dossier).column_attrs]
    session.expunge_all()
    loaded = session.get(Dossier, dossier.id)
    assert {c: getattr(made, c) for c in columns} == {c: getattr(loaded, c) for c in columns}


def test_a_change_is_written_and_relationships_load_lazily(app, session):
    unit = create_unit(session, code="P-ROWS", name="Phường Hàng")
    dossier = create_dossier(session, unit, code="HS-ROWS")
    session.commit()
    session.expunge_all()
    made = persistent(session, Dossier, _row(session, Dossier.__table__, dossier.id))
    assert made.unit.code == "P-ROWS"  # a many-to-one read from the database as for a loaded object
    made.procedure = "Chứng thực bản sao"
    session.commit()
    session.expunge_all()
    assert session.scalar(select(Dossier.procedure).where(Dossier.id == dossier.id)) == "Chứng thực bản sao"


def test_an_object_already_in_the_session_is_returned_as_it_is(app, session):
    unit = create_unit(session)
    session.commit()
    held = session.get(Unit, unit.id)
    held.name = "Tên chưa lưu"
    assert persistent(session, Unit, _row(session, Unit.__table__, unit.id)) is held
    assert held.name == "Tên chưa lưu"


def test_an_object_made_from_some_columns_loads_the_others_when_read(app, session):
    """``loaded`` with part of the columns (``store_response`` gives what it wrote): the rest load on first read,
    as for an object the ORM loaded with deferred columns, never a silent None."""
    unit = create_unit(session, code="P-PART", name="Phường Một Phần")
    session.commit()
    session.expunge_all()
    made = loaded(session, Unit, {"id": unit.id, "code": "P-PART"})
    assert inspect(made).persistent and not inspect(made).modified
    assert made.name == "Phường Một Phần"


def test_making_an_object_runs_no_cascade_of_the_session(app, session, monkeypatch):
    """The saving of ``loaded`` (docs/performance.md, intake 2026-12-07 night): the object goes into the identity
    map as the ORM's loader puts a row's object there, not through ``Session.add`` (its save-update cascade walked
    every relationship of the model, 10–14 µs an object, four objects an API rating)."""
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    session.commit()
    session.expunge_all()
    calls = []
    original = Mapper.cascade_iterator
    monkeypatch.setattr(Mapper, "cascade_iterator", lambda *a, **k: calls.append(a[1]) or original(*a, **k))
    made = persistent(session, Dossier, _row(session, Dossier.__table__, dossier.id))
    assert calls == [] and made in session and session.identity_map.get(inspect(made).key) is made
