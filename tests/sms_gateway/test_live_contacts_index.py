"""The SMS cycle (every minute) looks for dossiers to invite and for phone numbers to erase among the contacts that
still hold a number, through the partial index of those (``core_0030``), not by reading every contact ever
imported: after five years a province keeps millions of contacts whose number was erased, and a few thousand
live ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from sms_gateway.invitations import candidates, erase_closed_phones
from sms_gateway.settings import SmsSettings


def test_the_cycle_reads_the_contacts_with_a_number_by_their_index(session, settings):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    sms = SmsSettings.from_settings(settings)
    now = datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    connection = session.connection()
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM dossier_contact" in statement or "JOIN dossier_contact" in statement:
            seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", grab)
    try:
        candidates(session, sms, now=now)
        erase_closed_phones(session, sms, now=now)
    finally:
        event.remove(connection, "before_cursor_execute", grab)
    assert len(seen) == 2
    for statement, parameters in seen:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
        assert "SCAN dossier_contact" not in plan, (statement, plan)
        assert any("ix_dossier_contact_live" in step for step in plan), (statement, plan)
