"""A failed request answers in Vietnamese with a reference id in the log (500), or 503 + Retry-After when the
database cannot be used (SQLite still locked, PostgreSQL down) — never Flask's bare English page."""

from __future__ import annotations

import logging
import re
import sqlite3

import psycopg
import pytest
from flask import Blueprint, Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from sipas.failures import database_unavailable
from sipas.models import Unit
from sipas.storage import db_session
from tests.factories import create_clerk, create_unit, login


def _failing_blueprint(app: Flask) -> None:
    """Routes under a blueprint (so the console's menu asks who is logged in, as on every console page)."""
    boom = Blueprint("boom", __name__)

    @boom.route("/boom/flush", methods=["GET", "POST"])
    def failed_flush():  # type: ignore[no-untyped-def]
        session = db_session()
        first = session.scalars(select(Unit)).first()
        session.add(Unit(code=first.code, name="Trùng mã", kind=first.kind, issuing_body="x", place_name="x",
                         signatory_title="x", signatory_name="x", default_instrument="hue12",
                         allow_anonymous=False, options={}))
        try:
            session.flush()
        except sa_exc.IntegrityError as exc:  # the session now needs a rollback; a bug raises on
            raise RuntimeError("a bug after a failed flush") from exc
        return "never"

    @boom.get("/boom/locked")
    def locked():  # type: ignore[no-untyped-def]
        raise sa_exc.OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))

    app.register_blueprint(boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: unhandled errors reach the 500 handler


def test_the_500_page_renders_in_vietnamese_after_a_failed_flush_with_a_logged_reference(app, client, session,
                                                                                          caplog):
    _failing_blueprint(app)
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    token = client.get("/console/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"', token)
    headers = {"X-CSRFToken": next(g for g in csrf.groups() if g)} if csrf else {}
    with caplog.at_level(logging.ERROR):
        page = client.post("/boom/flush", headers=headers)
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "Lỗi hệ thống" in text and "Internal Server Error" not in text
    reference = re.search(r"Mã tham chiếu: <strong><code>([0-9a-f]{8})</code>", text).group(1)
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)


def test_a_locked_sqlite_database_answers_503_with_retry_after(app, client):
    _failing_blueprint(app)
    page = client.get("/boom/locked")
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
    assert "tạm thời" in page.get_data(as_text=True)
    machine = client.get("/boom/locked", headers={"Content-Type": "application/json"})
    assert machine.status_code == 503 and machine.json["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize(("error", "reason"), [
    (sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), "database_busy"),
    (sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x")), None),
    (sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")), "database_unreachable"),
    # a concurrent writer, not an outage (the transaction was rolled back: retrying it succeeds)
    (sa_exc.OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected")), "database_busy"),
    (sa_exc.OperationalError("UPDATE", {}, psycopg.errors.SerializationFailure("could not serialize")),
     "database_busy"),
    (sa_exc.OperationalError("UPDATE", {}, psycopg.errors.LockNotAvailable("could not obtain lock")), "database_busy"),
    (sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), None),
    (sa_exc.TimeoutError("QueuePool limit reached"), "database_busy"),
    (ValueError("bug"), None),
])
def test_which_errors_mean_the_database_is_unavailable(error, reason):
    assert database_unavailable(error) == reason


def test_the_error_page_renders_even_when_its_template_cannot(app, client, monkeypatch, caplog):
    _failing_blueprint(app)

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("template engine down")

    monkeypatch.setattr("sipas.failures.render_template", broken)
    with app.app_context():
        from sipas.storage import get_database

        with get_database(app).session() as session:
            create_unit(session)
    with caplog.at_level(logging.ERROR):
        page = client.get("/boom/flush")
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "Lỗi hệ thống" in text and "Internal Server Error" not in text
    reference = re.search(r"Mã tham chiếu: ([0-9a-f]{8})", text).group(1)
    assert any(reference in record.getMessage() for record in caplog.records)
