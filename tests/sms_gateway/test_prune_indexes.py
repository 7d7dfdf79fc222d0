"""The SMS cycle's prune (``sms_gateway.invitations.prune``, every cycle, i.e. every minute) finds what it deletes
by an index: the webhook de-duplication rows (30 days of every reply and every delivery report: at a province's
~25,000 messages a day with two or three status reports each, about two million rows) and the finished SMS
conversations are not read in full once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from sms_gateway.invitations import DELIVERY_MEMORY, prune, prune_statements
from sms_gateway.models import InboundDelivery


def test_the_prune_deletes_by_an_index(session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    for statement in prune_statements(now):
        compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (str(compiled), plan)


def test_the_prune_forgets_only_the_deliveries_past_the_memory(session):  # type: ignore[no-untyped-def]
    now = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    session.add_all([InboundDelivery(provider="twilio", token="old", kind="status",
                                     received_at=now - DELIVERY_MEMORY - timedelta(seconds=1)),
                     InboundDelivery(provider="twilio", token="new", kind="status",
                                     received_at=now - DELIVERY_MEMORY + timedelta(seconds=1))])
    session.flush()
    prune(session, now=now)
    assert session.scalars(select(InboundDelivery.token)).all() == ["new"]
    assert session.scalar(select(func.count()).select_from(InboundDelivery)) == 1
