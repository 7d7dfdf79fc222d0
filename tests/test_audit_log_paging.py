"""The audit log's pages at scale: the count stops at ``AUDIT_COUNT_CAP`` ("Hơn 10.000 sự kiện", counting all of
them read the whole log on every page: 238 ms at 1 M events), the pages go on while there is a next event, and the
activity filter is a range of the action codes that ``ix_audit_event_action`` serves (SQLite's case-insensitive
``LIKE 'user.%'`` read the whole log: 404 ms at 1 M events; 4.2 s for a province admin's "user." filter)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.audit import audit
from sipas.console import admin
from sipas.models import AuditEvent, Role
from sipas.security_audit import action_starts_with
from sipas.storage import get_database
from tests.factories import create_clerk, create_unit, login


def test_the_count_is_capped_and_the_pages_go_on(client, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(admin, "AUDIT_COUNT_CAP", 3)
    monkeypatch.setattr(admin, "AUDIT_PAGE_SIZE", 2)
    unit = create_unit(session)
    for i in range(6):
        audit(session, "kiosk.burst_flagged", actor="system", unit=unit, subject=f"K{i}")
    user = create_clerk(session, unit, role=Role.ADMIN, username="qt.chung")
    session.commit()
    login(client, user)
    first = client.get("/console/audit").get_data(as_text=True)
    assert "Hơn 3 sự kiện · trang 1<" in first, first
    assert "Trang sau" in first and "Trang trước" not in first
    seen = []
    for page in range(1, 6):
        body = client.get(f"/console/audit?page={page}").get_data(as_text=True)
        seen += [line for line in body.split('data-action="')[1:]]
        if "Trang sau" not in body:
            break
    events = len(session.scalars(select(AuditEvent.id)).all())  # the kiosk's, the unit's and the account's
    assert len(seen) == events and page == (events + 1) // 2
    last = client.get(f"/console/audit?page={page}").get_data(as_text=True)
    assert "Trang trước" in last and "Trang sau" not in last
    filtered = client.get("/console/audit?action=kiosk.").get_data(as_text=True)
    assert "Hơn 3 sự kiện · trang 1<" in filtered and "Trang sau" in filtered
    few = client.get("/console/audit?action=user.login").get_data(as_text=True)
    assert "1 sự kiện · trang 1/1" in few and "Trang sau" not in few


def test_the_activity_filter_selects_the_same_events(session) -> None:  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    for action in ("user.login", "user.created", "users.x", "user", "apikey.created", "kiosk.burst_flagged"):
        audit(session, action, actor="system", unit=unit, subject="s")
    session.commit()
    for prefix in ("user.", "user", "apikey", "kiosk.burst_flagged", "k", "z", "user_"):
        got = set(session.scalars(select(AuditEvent.action).where(action_starts_with(prefix))))
        every = set(session.scalars(select(AuditEvent.action)))
        assert got == {a for a in every if a.startswith(prefix)}, prefix


def test_the_activity_filter_uses_the_action_index(app, session) -> None:  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    with get_database(app).engine.connect() as connection:
        query = select(AuditEvent.id).where(action_starts_with("user."))
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " | ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "ix_audit_event_action (action>? AND action<?)" in plan, plan


def test_an_activity_filter_beyond_the_action_codes_finds_nothing_and_fails_nothing(client, session) -> None:  # type: ignore[no-untyped-def]
    """The range's upper bound is the filter's last character plus one: a filter ending in U+10FFFF (no character
    follows it) or U+D7FF (a surrogate follows it, which no database driver encodes) answered 500. Action codes are
    printable ASCII, so such a filter selects nothing (a NUL, which PostgreSQL refuses, never reaches the view: 400)."""
    unit = create_unit(session)
    audit(session, "kiosk.burst_flagged", actor="system", unit=unit, subject="K1")
    user = create_clerk(session, unit, role=Role.ADMIN, username="qt.loc")
    session.commit()
    login(client, user)
    for typed in ("\U0010ffff", "user.\ud7ff", "kiosk\x00"):
        assert session.scalars(select(AuditEvent.action).where(action_starts_with(typed))).all() == [], typed
    for typed in ("\U0010ffff", "user.\ud7ff"):
        response = client.get("/console/audit", query_string={"action": typed})
        assert response.status_code == 200, typed
        assert "0 sự kiện · trang 1/1" in response.get_data(as_text=True), typed
