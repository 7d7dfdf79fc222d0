"""Intake on PostgreSQL reads outside a transaction until its first write, and a rating's one statement is its own
transaction (``sipas.pg_intake``, issue 14): the unit's tally rows, which every rating updates, are locked for that
statement alone, not until the view's commit. So for the API, the kiosk (its minimum interval claimed in the same
statement) and the phone form (its link spent in the same statement). Everything that writes more than once stays
one transaction, and a connection back in the pool is transactional again for whoever takes it next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update

import sipas.responses
from sipas.app import create_app
from sipas.clock import utcnow
from sipas.models import Response
from sipas.models_tally import ResponseTally
from sipas.pg_intake import is_plain_read
from sipas.storage import get_database
from sms_gateway.links import issue_link
from tests.conftest import _empty_postgres
from tests.factories import answers_for, create_dossier, create_key, create_unit
from tests.kiosk.helpers import new_device
from tests.sms_gateway.conftest import make_settings
from tests.sms_gateway.test_webhooks import INBOUND, inbound, invited, post_signed
from tests.sms_links.conftest import token_for


@pytest.fixture
def pg_app(postgres_database: str, tmp_path: Path) -> Iterator[Flask]:
    _empty_postgres(postgres_database)
    app = create_app(make_settings(postgres_database, tmp_path))  # with Twilio, for the SMS reply
    yield app
    get_database(app).dispose()


def _state_of(other: Any, connection: Any) -> str:
    """What ``pg_stat_activity`` says the session of ``connection`` (a SQLAlchemy connection) is doing."""
    pid = connection.connection.driver_connection.info.backend_pid
    state = other.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one()
    other.rollback()  # the statistics are a snapshot per transaction: the next look takes a new one
    return str(state)


def _rater(pg_app: Flask, catalogue: Any, channel: str) -> tuple[Any, Any]:
    """A unit, and a function rating its n-th dossier (0 or 1) through ``channel``'s view."""
    database = get_database(pg_app)
    client = pg_app.test_client()
    with database.session() as session:
        unit = create_unit(session, default_instrument="hue12")
        dossiers = [create_dossier(session, unit) for _ in range(2)]
        if channel == "api":
            key = create_key(session, unit)
            bodies = [{"instrument": "hue12", "channel": "api", "dossier_code": d.code,
                       "answers": answers_for(catalogue)} for d in dossiers]
            return unit, lambda n: client.post("/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
                                               json=bodies[n])
        if channel == "sms":  # a number each, invited for its dossier
            phones = ["+84912345601", "+84912345602"]
            settings = pg_app.extensions["sipas_settings"]
            rated = [invited(pg_app, session, settings, phone=phone) for phone in phones]
            return rated[1].unit, lambda n: post_signed(client, INBOUND, inbound("1" * 12, sid=f"SM{n:032d}",
                                                                        sender=phones[n]))
        if channel == "kiosk":  # a device each: the second rating is inside the first one's minimum interval
            tokens = [new_device(session, unit, secret=pg_app.config["SECRET_KEY"], name=f"Quầy {n}")[2]
                      for n in range(2)]
            bodies = [{"key": f"kiosk-key-{n}", "instrument": "hue12", "dossier_code": d.code,
                       "answers": answers_for(catalogue)} for n, d in enumerate(dossiers)]
            return unit, lambda n: client.post(f"/kiosk/{unit.code}/api/submit", json=bodies[n],
                                               headers={"X-Kiosk-Token": tokens[n]})
        now = utcnow()
        links = [issue_link(session, d, instrument_code="hue12", channel="sms", now=now,
                            expires_at=now + timedelta(days=7)) for d in dossiers]
        session.flush()
        signed = [(link.code, token_for(pg_app, link)) for link in links]
    return unit, lambda n: client.post(f"/r/{signed[n][0]}", headers={"X-CSRFToken": signed[n][1]},
                                       json={"answers": answers_for(catalogue), "idempotency_key": f"phone-{n}"})


@pytest.mark.parametrize("channel", ["api", "kiosk", "phone", "sms"])
def test_a_rating_is_stored_and_its_tally_rows_free_as_soon_as_its_statement_returns(pg_app, catalogue,
                                                                                     monkeypatch, channel):
    """Before: the statement ran in the view's transaction (psycopg's ``BEGIN`` first, a round trip), which kept
    the unit's tally rows locked until the ``COMMIT`` (another round trip) came from the view; every other rating
    of the unit waited meanwhile. The kiosk's interval and the phone link's spend were statements of their own
    before the rating's, in that transaction."""
    database = get_database(pg_app)
    unit, rate = _rater(pg_app, catalogue, channel)
    # the first rating of the process records the form's version (a write before its own)
    assert rate(0).status_code in {200, 201}
    other_engine = create_engine(database.engine.url)
    seen: dict[str, Any] = {}
    write_rating = sipas.responses.write_rating

    def then_look(*args: Any, **kwargs: Any) -> Any:
        stored = write_rating(*args, **kwargs)
        with other_engine.connect() as other:
            other.execute(text("SET lock_timeout = '1s'"))
            seen["stored"] = other.execute(select(func.count()).select_from(Response)).scalar_one()
            # another rating of the unit updates the same tally rows: not kept waiting
            seen["updated"] = other.execute(update(ResponseTally).where(ResponseTally.unit_id == unit.id)
                                            .values(responses=ResponseTally.responses + 0)).rowcount
            other.rollback()
        return stored

    monkeypatch.setattr(sipas.responses, "write_rating", then_look)
    try:
        answer = rate(1)
    finally:
        other_engine.dispose()
    assert answer.status_code in {200, 201}, answer.get_data(as_text=True)
    assert seen == {"stored": 2, "updated": 2}  # committed; the day's and the month's row, not locked


def test_a_refused_duplicate_is_still_audited(pg_app, catalogue):
    database = get_database(pg_app)
    with database.session() as session:
        unit = create_unit(session)
        key = create_key(session, unit)
        code = create_dossier(session, unit).code
    client = pg_app.test_client()
    body = {"instrument": "hue12", "channel": "api", "dossier_code": code, "answers": answers_for(catalogue)}
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/responses", headers=headers, json=body).status_code == 201
    assert client.post("/api/v1/responses", headers=headers, json=body).status_code == 409
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM response")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM audit_event WHERE action = 'response.duplicate_refused'")
                                  ).scalar_one() == 1


def test_an_intake_session_reads_outside_a_transaction_and_writes_in_one(pg_app):
    database = get_database(pg_app)
    with database.engine.connect() as other, database.intake_sessionmaker() as session:
        session.execute(select(func.count()).select_from(Response)).scalar_one()
        connection = session.connection()
        assert _state_of(other, connection) == "idle"  # not "idle in transaction": nothing held
        session.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('a', 1, 1)"))
        assert _state_of(other, connection) == "idle in transaction"
        session.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('b', 1, 1)"))
        session.rollback()  # both writes go: one transaction from the first
        assert other.execute(text("SELECT count(*) FROM throttle_counter")).scalar_one() == 0


def test_a_locking_read_begins_the_transaction(pg_app):
    database = get_database(pg_app)
    with database.engine.connect() as other, database.intake_sessionmaker() as session:
        session.execute(select(Response.id).with_for_update()).all()
        assert _state_of(other, session.connection()) == "idle in transaction"  # the lock is held
        session.rollback()


def test_a_connection_back_from_intake_is_transactional_for_the_next_session(pg_app):
    database = get_database(pg_app)
    with database.intake_sessionmaker() as session:
        session.execute(select(func.count()).select_from(Response)).scalar_one()
        session.commit()
    assert database.engine.pool.checkedin() == 1  # the one connection, taken again below
    with database.engine.connect() as other, database.sessionmaker() as session:
        session.execute(select(func.count()).select_from(Response)).scalar_one()
        assert _state_of(other, session.connection()) == "idle in transaction"
        session.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('a', 1, 1)"))
        session.rollback()
        assert other.execute(text("SELECT count(*) FROM throttle_counter")).scalar_one() == 0


@pytest.mark.parametrize(("statement", "read"), [
    ("SELECT id FROM response WHERE id = %(id)s", True),
    ("  select 1", True),
    ("SELECT id FROM response WHERE id = 1 FOR UPDATE", False),
    ("SELECT id FROM response FOR NO KEY UPDATE SKIP LOCKED", False),
    ("SELECT 1 FROM response x FOR KEY SHARE OF x", False),
    ("SELECT id FROM response\nFOR SHARE", False),
    ("WITH r AS (INSERT INTO response DEFAULT VALUES RETURNING id) SELECT id FROM r", False),
    ("INSERT INTO throttle_counter (key) VALUES ('a')", False),
    ("SAVEPOINT sa_savepoint_1", False),
])
def test_what_counts_as_a_plain_read(statement, read):
    assert is_plain_read(statement) is read


def test_a_connection_asked_for_autocommit_stays_in_autocommit(pg_app):
    """Before: the intake's ``begin`` hook made every non-intake connection transactional, SQLAlchemy's
    ``AUTOCOMMIT`` level included: ``VACUUM`` failed, and an ``ANALYZE`` (the bench's, after seeding) ran in a
    transaction rolled back when the connection closed, leaving the planner without statistics."""
    database = get_database(pg_app)
    with database.session() as session:
        session.execute(text("INSERT INTO throttle_counter (key, bucket, count) "
                             "SELECT 'k' || n, n, 1 FROM generate_series(1, 50) AS n"))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM throttle_counter")  # refused inside a transaction block
        connection.exec_driver_sql("ANALYZE throttle_counter")
    with database.engine.connect() as connection:  # the statistics stayed
        assert connection.execute(text("SELECT count(*) FROM pg_statistic "
                                       "WHERE starelid = 'throttle_counter'::regclass")).scalar_one() > 0
    with database.session() as session:  # and the next transaction on a pooled connection is one again
        session.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('x', 1, 1)"))
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM throttle_counter")).scalar_one() == 50


def test_a_statement_alone_that_loses_its_connection_says_so(pg_app):
    """Before: ``commits_alone`` read ``connection.info`` after the loss, which raised ``PendingRollbackError`` and
    hid the cause: the rating was answered 500 (a bug) instead of 503 (the database is unavailable)."""
    from sqlalchemy.exc import OperationalError

    from sipas.failures import database_unavailable
    from sipas.pg_intake import commits_alone

    database = get_database(pg_app)
    with database.intake_sessionmaker() as session:
        connection = session.connection()
        pid = connection.connection.driver_connection.info.backend_pid
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as lost, commits_alone(connection):
            connection.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('lost', 1, 1)"))
    assert database_unavailable(lost.value) == "database_unreachable"


def test_a_statement_is_classified_once(monkeypatch):
    """Every statement of an intake session in autocommit is classified (``_begin_at_first_write``); the locking
    clause's search over a long statement (the API key's read with its unit) took 15-35 µs a request, for the
    same few statement strings over and over: classified once per string now (docs/performance.md)."""
    import sipas.pg_intake

    searched = []
    pattern = sipas.pg_intake._LOCKING

    class Counting:
        def search(self, statement: str) -> Any:
            searched.append(statement)
            return pattern.search(statement)

    monkeypatch.setattr(sipas.pg_intake, "_LOCKING", Counting())
    statement = "SELECT id FROM response WHERE id = %(id)s AND unit_id = %(unit)s -- classified once"
    assert [is_plain_read(statement) for _ in range(3)] == [True, True, True]
    assert searched == [statement]
