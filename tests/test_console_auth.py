"""Console login: hashed passwords, CSRF on forms, a failure limit shared by all workers, unit scoping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.models import Role, User
from tests.factories import PASSWORD, create_clerk, create_district_with_wards, create_unit, login


def _csrf(client, path="/console/login"):
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_password_is_stored_hashed(session):
    unit = create_unit(session)
    user = create_clerk(session, unit, username="hoa")
    assert PASSWORD not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_login_requires_a_csrf_token(client, session):
    unit = create_unit(session)
    create_clerk(session, unit, username="hoa")
    session.commit()
    refused = client.post("/console/login", data={"username": "hoa", "password": PASSWORD})
    assert refused.status_code == 400


@pytest.mark.usefixtures("one_login_instant")
def test_wrong_password_then_lockout_after_repeated_failures(client, session):
    unit = create_unit(session)
    create_clerk(session, unit, username="hoa")
    session.commit()
    for _ in range(5):
        response = client.post("/console/login", data={"username": "hoa", "password": "sai-mat-khau",
                                                       "csrf_token": _csrf(client)})
        assert response.status_code == 401
        assert "không đúng" in response.get_data(as_text=True)
    locked = client.post("/console/login", data={"username": "hoa", "password": PASSWORD,
                                                 "csrf_token": _csrf(client)})
    assert locked.status_code == 429
    assert "quá nhiều lần" in locked.get_data(as_text=True)


@pytest.mark.usefixtures("one_login_instant")
def test_the_current_password_is_limited_and_audited_as_a_login(client, session):
    """docs/accounts.md: the password page asks for the current password "so a console left open cannot be used to
    take the account over". It took guesses without end and audited none; now it counts them with the login's."""
    from sipas.models import AuditEvent

    unit = create_unit(session)
    clerk = create_clerk(session, unit, username="hoa")
    session.commit()
    login(client, clerk)
    token = _csrf(client, "/console/password")

    def change(current):  # type: ignore[no-untyped-def]
        return client.post("/console/password", data={"csrf_token": token, "current": current,
                                                       "new": "mat-khau-moi-123", "confirm": "mat-khau-moi-123"})

    assert [change(f"doan-sai-{i}").status_code for i in range(5)] == [422] * 5  # as many as a login allows
    locked = change(PASSWORD)
    assert locked.status_code == 429 and "quá nhiều lần" in locked.get_data(as_text=True)
    session.expire_all()
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_check_failed")).all()
    assert len(failed) == 5 and {e.subject for e in failed} == {"hoa"}
    refused = client.post("/console/login", data={"username": "hoa", "password": PASSWORD,
                                                  "csrf_token": _csrf(client)})
    assert refused.status_code == 429  # the same counters: this client's guesses at hoa are used up


def test_console_pages_need_a_login_and_redirect_back(client):
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login?next=/console/" in response.headers["Location"]


def test_login_rejects_an_open_redirect(client, session):
    unit = create_unit(session)
    create_clerk(session, unit, username="hoa")
    session.commit()
    response = client.post("/console/login?next=//evil.example/x", data={
        "username": "hoa", "password": PASSWORD, "csrf_token": _csrf(client)})
    assert response.headers["Location"] == "/console/"


def test_home_lists_only_the_units_of_the_user(client, session):
    district, (ward_a, ward_b) = create_district_with_wards(session)
    other = create_unit(session, name="Phường Khác")
    clerk = create_clerk(session, ward_a)
    leader = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, clerk)
    page = client.get("/console/").get_data(as_text=True)
    assert ward_a.name in page and ward_b.name not in page and other.name not in page
    client.post("/console/logout", data={"csrf_token": _csrf(client, "/console/")})
    login(client, leader)
    page = client.get("/console/").get_data(as_text=True)
    assert ward_a.name in page and ward_b.name in page and other.name not in page


def test_deactivated_user_is_logged_out(client, session):
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    session.scalar(select(User).where(User.id == clerk.id)).active = False
    session.commit()
    assert client.get("/console/").status_code == 302


def test_session_cookie_is_http_only_and_secure_by_default(app):
    from sipas.settings import Settings

    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert Settings.from_env({}).secure_cookies is True


@pytest.mark.usefixtures("one_login_instant")
def test_behind_a_proxy_failures_count_per_real_client(settings, session):
    from dataclasses import replace

    from sipas.app import create_app
    from sipas.storage import get_database

    unit = create_unit(session)
    create_clerk(session, unit, username="hoa")
    session.commit()
    app = create_app(replace(settings, proxy_count=1))
    try:
        client = app.test_client()
        for attempt in range(20):  # one client guessing many accounts: 4 × the per-account limit
            client.post("/console/login", headers={"X-Forwarded-For": "10.0.0.1"},
                        data={"username": f"khac{attempt}", "password": "x", "csrf_token": _csrf(client)})
        blocked = client.post("/console/login", headers={"X-Forwarded-For": "10.0.0.1"},
                              data={"username": "hoa", "password": PASSWORD, "csrf_token": _csrf(client)})
        other = client.post("/console/login", headers={"X-Forwarded-For": "10.0.0.2"},
                            data={"username": "hoa", "password": PASSWORD, "csrf_token": _csrf(client)})
        assert (blocked.status_code, other.status_code) == (429, 302)
    finally:
        get_database(app).dispose()


def test_a_client_past_the_days_limit_is_told_when_it_ends_not_to_wait_15_minutes(client, session, monkeypatch):
    """The day's limit (20 attempts per account and client, refused ones counted) counts in fixed UTC days: it ends
    at 07:00 in Việt Nam. The page said "thử lại sau 15 phút" whatever the hour; a clerk blocked at 09:45 who came
    back 15 minutes later was refused again, until 07:00 the next morning. It now says when."""
    from datetime import UTC, datetime, timedelta

    from sipas.console import views

    unit = create_unit(session)
    create_clerk(session, unit, username="hoa")
    session.commit()
    start = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # 09:00 on 08/12/2026 in Việt Nam
    clock = {"now": start}
    monkeypatch.setattr(views, "utcnow", lambda: clock["now"])

    def attempt(password):  # type: ignore[no-untyped-def]
        return client.post("/console/login", data={"username": "hoa", "password": password,
                                                   "csrf_token": _csrf(client)})

    for window in range(3):  # 6 attempts counted in each window
        clock["now"] = start + timedelta(minutes=15 * window)
        assert [attempt("sai-mat-khau").status_code for _ in range(5)] == [401] * 5
        paused = attempt(PASSWORD)
        assert paused.status_code == 429 and "Vui lòng thử lại sau 15 phút." in paused.get_data(as_text=True)
    clock["now"] = start + timedelta(minutes=45)  # 09:45: the window's count is fresh, the day's is at 18
    assert [attempt("sai-mat-khau").status_code for _ in range(2)] == [401] * 2
    refused = attempt(PASSWORD)
    assert refused.status_code == 429
    assert "Vui lòng thử lại từ 07:00 ngày 09/12/2026." in refused.get_data(as_text=True)
    clock["now"] = datetime(2026, 12, 8, 23, 59, tzinfo=UTC)  # 06:59 on 09/12: still the same UTC day
    assert attempt(PASSWORD).status_code == 429
    clock["now"] = datetime(2026, 12, 9, 0, 0, tzinfo=UTC)  # 07:00 on 09/12, as the page said
    assert attempt(PASSWORD).status_code == 302
