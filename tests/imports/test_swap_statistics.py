"""The dossier swap reads each row a bounded number of times, whatever statistics the planner holds.

PostgreSQL plans by the statistics autovacuum last took, and the tables of an import change under them: the
staging table held another run's rows when it was last analysed, and the dossiers just inserted by the swap
are not in any statistics. With a dossier table analysed at three rows, a swap of 20,000 rows planned a
nested loop that read the whole run from the staging table once per dossier: 400 million row visits, three
and a half minutes holding the swap's locks (a test that imports after a killed run met it in a full run of
the suite); looked up by code instead, each new dossier was found by scanning the unit's dossiers (the
planner took the unit's other index, believing it held one row). The test measures row visits with
``EXPLAIN ANALYZE`` of each swap statement, so it is exact and does not depend on the machine's speed.
SQLite plans without such statistics (``ANALYZE`` never runs there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from sipas.imports import import_dossiers
from sipas.models import Dossier
from tests.factories import SECRET, TZ, create_response, create_unit
from tests.imports.helpers import DOSSIER_HEADER, NOW, csv_bytes, dossier_row

ROWS = 3000


def _file(rows: int, prefix: str = "H", **changes: str) -> bytes:
    return csv_bytes([DOSSIER_HEADER, *[dossier_row(f"{prefix}-{n:06d}", **changes) for n in range(rows)]])


def _visits(plan: dict[str, Any], visits: dict[str, int], statement: str) -> None:
    """Add the rows each node of a plan read from its table, kept and filtered out, times its loops."""
    if "Relation Name" in plan:
        key = f"{statement} / {plan['Relation Name']}"
        visits[key] = visits.get(key, 0) + (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
                                            + plan.get("Rows Removed by Index Recheck", 0)) * plan["Actual Loops"]
    for child in plan.get("Plans", []):
        _visits(child, visits, statement)


@contextmanager
def _swap_visits(session: Session) -> Iterator[dict[str, int]]:
    """Each statement that reads the staging table, run once more under ``EXPLAIN ANALYZE`` in a savepoint that
    is rolled back: the rows it visited in each table, by the statement's first words and the table."""
    visits: dict[str, int] = {}

    def explain(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if executemany or "dossier_staging" not in statement or statement.startswith(("INSERT INTO dossier_staging",
                                                                                         "DELETE", "EXPLAIN")):
            return
        cursor.execute("SAVEPOINT staging_visits")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
        (plan,) = cursor.fetchone()
        cursor.execute("ROLLBACK TO SAVEPOINT staging_visits")
        plan = json.loads(plan) if isinstance(plan, str) else plan
        _visits(plan[0]["Plan"], visits, " ".join(statement.split()[:3]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", explain)
    try:
        yield visits
    finally:
        event.remove(engine, "before_cursor_execute", explain)


def _analyze(session: Session) -> None:
    """What autovacuum does at any moment: statistics of the tables as they are now."""
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # type: ignore[union-attr]
        conn.execute(text("ANALYZE dossier"))
        conn.execute(text("ANALYZE dossier_staging"))


@pytest.mark.parametrize("again", [False, True], ids=["first import", "re-import changing every row"])
def test_the_swap_reads_each_staged_row_a_bounded_number_of_times_under_stale_statistics(session, catalogue,
                                                                                         database_url, again):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite plans without statistics (ANALYZE never runs there)")
    unit, other = create_unit(session, code="P-LON"), create_unit(session, code="P-NHO")
    session.commit()
    import_dossiers(session, other, _file(3, "N"), "nho.csv", tz=TZ, secret=SECRET, actor="test", now=NOW)

    def killed(done: int, _total: int) -> None:
        if done >= 1000:
            raise KeyboardInterrupt  # a run killed after its first batch: its staged rows stay behind

    with pytest.raises(KeyboardInterrupt):
        import_dossiers(session, unit, _file(ROWS), "lon.csv", tz=TZ, secret=SECRET, actor="test", now=NOW,
                        progress=killed)
    session.rollback()
    _analyze(session)  # three dossiers, and a staging table holding only the dead run's rows
    later = NOW + timedelta(hours=2)
    if again:  # the file imported once, a tenth of it rated, not analysed since: the next import updates every
        # dossier and phone
        import_dossiers(session, unit, _file(ROWS), "lon.csv", tz=TZ, secret=SECRET, actor="test", now=later)
        for n in range(0, ROWS, 10):
            create_response(session, catalogue, unit, dossier=session.scalars(
                select(Dossier).where(Dossier.unit_id == unit.id, Dossier.code == f"H-{n:06d}")).one())
        session.commit()

    with _swap_visits(session) as visits:
        data = _file(ROWS, procedure="Đăng ký kết hôn", phone="0987654321") if again else _file(ROWS)
        report = import_dossiers(session, unit, data, "lon.csv", tz=TZ, secret=SECRET, actor="test", now=later)
    assert report.written and (report.updated if again else report.created) == ROWS
    assert any("dossier_contact" in key for key in visits), "the swap's statements were not seen"
    # Each statement reads each table a few times its size at most (3,000 staged rows, 3,003 dossiers, 300
    # ratings); a nested loop over the staged run would be 9,000,000.
    assert all(count <= 3 * ROWS for count in visits.values()), json.dumps(visits, indent=1)
