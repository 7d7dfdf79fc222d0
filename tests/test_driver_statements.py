"""``sipas.driver_statements``: a statement on the driver's cursor reads and writes what SQLAlchemy would, its
listeners see it, and a driver error is SQLAlchemy's exception; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, event, exc, select, update

from sipas.driver_statements import DriverStatement
from sipas.models import Dossier, IntakeChannel, Unit, UnitKind
from sipas.storage import get_database
from tests.factories import create_dossier, create_unit

_UNIT = select(Unit.__table__, (Unit.__table__.c.parent_id.is_(None)).label("top")).where(
    Unit.__table__.c.code == bindparam("code"))


def test_a_select_reads_every_column_as_sqlalchemy_does(app, session):
    unit = create_unit(session, code="P-DRV", name="Phường Trình Điều Khiển")
    unit.options = {"kiosk": {"sound": True}, "tên": "Hương"}
    unit.allow_anonymous = True
    dossier = create_dossier(session, unit, code="HS-DRV")
    session.commit()
    connection = session.connection()
    for table, statement, values in (
            (Unit.__table__, _UNIT, {"code": "P-DRV"}),
            (Dossier.__table__, select(Dossier.__table__).where(Dossier.__table__.c.id == bindparam("id")),
             {"id": dossier.id})):
        expected = connection.execute(statement, values).first()._mapping
        found = DriverStatement(statement).first(connection, values)
        assert found is not None
        for column in table.c:
            assert found[column] == expected[column] and type(found[column]) is type(expected[column]), column
    found = DriverStatement(_UNIT).first(connection, {"code": "P-DRV"})
    assert found["top"] is True and found[Unit.__table__.c.options] == {"kiosk": {"sound": True}, "tên": "Hương"}
    rows = DriverStatement(select(Dossier.__table__)).all(connection, {})
    assert len(rows) == 1 and isinstance(rows[0][Dossier.__table__.c.intake_channel], IntakeChannel)
    assert DriverStatement(_UNIT).first(connection, {"code": "none"}) is None


def test_writes_convert_their_values_and_many_rows_go_at_once(app, session):
    unit = create_unit(session, code="P-DRV2")
    first, second = create_dossier(session, unit, code="HS-1"), create_dossier(session, unit, code="HS-2")
    session.commit()
    d = Dossier.__table__
    returned = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    touch = DriverStatement(update(d).where(d.c.id == bindparam("dossier"))
                            .values(returned_at=bindparam("at"), responses=d.c.responses + bindparam("added")))
    touch.executemany(session.connection(), [{"dossier": first.id, "at": returned, "added": 2},
                                             {"dossier": second.id, "at": returned, "added": 3}])
    session.commit()
    session.expunge_all()
    stored = {x.code: (x.returned_at, x.responses) for x in session.scalars(select(Dossier))}
    assert stored == {"HS-1": (returned, 2), "HS-2": (returned, 3)}


def test_listeners_see_the_statement_and_errors_are_sqlalchemys(app, session):
    create_unit(session, code="P-DRV3")
    session.commit()
    seen: list[tuple[str, bool]] = []

    def before(_conn, _cursor, statement, _parameters, _context, many):  # type: ignore[no-untyped-def]
        seen.append((statement.split()[0], many))

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        DriverStatement(_UNIT).first(session.connection(), {"code": "P-DRV3"})
        duplicate = DriverStatement(Unit.__table__.insert(), keys=("code", "name", "kind", "issuing_body",
                                                                     "place_name", "signatory_title",
                                                                     "signatory_name", "default_instrument",
                                                                     "allow_anonymous", "options", "created_at"))
        row = {"code": "P-DRV3", "name": "Trùng", "kind": UnitKind.WARD, "issuing_body": "", "place_name": "",
               "signatory_title": "", "signatory_name": "", "default_instrument": "hue12", "allow_anonymous": False,
               "options": {}, "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
        with pytest.raises(exc.IntegrityError):
            duplicate.execute(session.connection(), row)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    session.rollback()
    assert [s for s in seen if s[0] != "BEGIN"] == [("SELECT", False), ("INSERT", False)]  # BEGIN: SQLAlchemy's
    assert session.scalar(select(Unit.name).where(Unit.code == "P-DRV3")) != "Trùng"  # the connection still works


def test_parameters_rendered_at_execution_are_refused(app, session):
    expanding = DriverStatement(select(Unit.__table__).where(Unit.__table__.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="rendered at execution"):
        expanding.all(session.connection(), {"ids": [1]})
