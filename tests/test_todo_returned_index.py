"""The home's "returned in the last N days, not invited" count reads the days asked for through
``ix_dossier_unit_returned`` (core_0028), on both backends: it read every dossier of the units through the
(unit, code) key to test their return time, 6.1 s for a province of 1.1 M dossiers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine

from sms_gateway.todo import returned_not_invited_counts


def test_the_returned_not_invited_count_seeks_the_days_of_each_unit(database_url: str) -> None:
    query = returned_not_invited_counts([1, 2, 3], datetime(2026, 12, 7, 3, tzinfo=UTC), 7)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
                assert "ix_dossier_unit_returned (unit_id=? AND returned_at>? AND returned_at<?)" in plan, plan
            else:
                connection.exec_driver_sql("SET enable_seqscan = off")
                plan = " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
                assert "ix_dossier_unit_returned" in plan and "returned_at >" in plan, plan
    finally:
        engine.dispose()
