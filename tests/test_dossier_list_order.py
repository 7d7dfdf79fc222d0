"""The console's dossier list of several units reads its page down ``ix_dossier_received_order`` (core_0029),
newest first, without sorting the units' dossiers: through the units' index SQLite (without statistics, as a
deployment runs) sorted every dossier of the province first, 7.7 s for 1.1 M dossiers. A single unit's list keeps
its unit's index. Checked on SQLite, which plans by its indexes alone; PostgreSQL plans an empty table by its
statistics, so a plan there says nothing of a province's (a single unit's list went down the new index in one full
run of the suite, a fine plan too)."""

from __future__ import annotations

import pytest

from sipas.console.dossiers import Filters, list_page
from sipas.storage import get_database
from tests.factories import create_unit


def _plan(app, query) -> str:  # type: ignore[no-untyped-def]
    with get_database(app).engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        return " | ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


def test_the_list_of_several_units_reads_its_page_in_received_order(app, session) -> None:  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    units = [create_unit(session) for _ in range(3)]
    session.commit()
    with app.test_request_context("/console/dossiers"):
        for page in (1, 40):
            plan = _plan(app, list_page(session, units, Filters(unit="", q="", status="", page=page), page))
            assert "ix_dossier_received_order" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        one = _plan(app, list_page(session, units[:1], Filters(unit="", q="", status="", page=1), 1))
        assert "ix_dossier_received_order" not in one, one
