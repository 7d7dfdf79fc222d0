"""The home's "returned in the last N days, not invited" count reads the days asked for through
``ix_dossier_unit_returned`` (core_0028): it read every dossier of the units through the (unit, code) key to test
their return time, 6.1 s for a province of 1.1 M dossiers. Checked on SQLite, which plans by its indexes alone (no
statistics, as a deployment runs); PostgreSQL plans an empty table by its statistics, so a plan there says nothing
of a province's (it chose the primary key in one full run of the suite)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine

from sms_gateway.todo import returned_not_invited_counts


def test_the_returned_not_invited_count_seeks_the_days_of_each_unit(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    query = returned_not_invited_counts([1, 2, 3], datetime(2026, 12, 7, 3, tzinfo=UTC), 7)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "ix_dossier_unit_returned (unit_id=? AND returned_at>? AND returned_at<?)" in plan, plan
    finally:
        engine.dispose()
