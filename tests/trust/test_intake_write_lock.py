"""Intake takes SQLite's write lock only for the write (issue 14).

Every POST used to begin ``BEGIN IMMEDIATE`` at its first query and hold the database's single write
lock through the key check, the dossier lookup, validation and building the answer, while the other
workers slept in SQLite's busy handler. Intake views (``lock_on_write``) now read outside any
transaction and begin IMMEDIATE just before their first write; from there on all is one serialised
transaction as before (the unique constraints still decide duplicates: tests/api/test_concurrency.py).
SQLite only: PostgreSQL has no database-wide write lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text, update

from sipas.app import create_app
from sipas.instrument_records import record_use
from sipas.models import ApiKey, Response
from sipas.responses import resolve_instrument
from sipas.storage import get_database
from tests.factories import TZ, answers_for, create_dossier, create_key, create_unit
from tests.kiosk.helpers import seed
from tests.sms_gateway.conftest import make_settings
from tests.sms_gateway.test_webhooks import INBOUND, inbound, invited, post_signed


class Seen(list[tuple[str, bool]]):
    """(first word of each statement, whether a transaction was open when it ran); ``texts``: the statements."""

    texts: list[str]


def _watch(app: Flask) -> Seen:
    seen = Seen()
    seen.texts = []

    def before(connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append((statement.split()[0].upper(), connection.connection.dbapi_connection.in_transaction))
        seen.texts.append(statement)

    event.listen(get_database(app).engine, "before_cursor_execute", before)
    return seen


def _reads_under_the_lock(seen: Seen) -> list[str]:
    """The SELECTs after the first write, but for the record of an instrument version's first use (once per
    process and version: ``sipas.instrument_records.record_use``)."""
    first_write = len(_reads_before_the_lock(seen))
    return [text for (word, _), text in zip(seen[first_write:], seen.texts[first_write:], strict=True)
            if word == "SELECT" and "instrument_version_record" not in text]


def _reads_before_the_lock(seen: Seen) -> list[tuple[str, bool]]:
    first_write = next(i for i, (word, _) in enumerate(seen) if word != "SELECT")
    return seen[:first_write]


def test_an_api_rating_reads_outside_the_write_lock_and_writes_inside_it(sqlite_app, catalogue):
    with get_database(sqlite_app).session() as session:
        unit = create_unit(session)
        key = create_key(session, unit)
        dossier = create_dossier(session, unit)
        code = dossier.code
        # a key used within the last minute is not touched again (the once-a-minute touch is a write)
        session.execute(update(ApiKey).values(last_used_at=datetime.now(UTC)))
    # the instrument version's record is made once per process, with the first rating, before its write (and
    # read once more, after its commit, to be known for good)
    for _ in range(2):
        with get_database(sqlite_app).intake_sessionmaker() as session:
            record_use(session, resolve_instrument(catalogue, "hue12", datetime.now(UTC), TZ), now=datetime.now(UTC))
            session.commit()
    seen = _watch(sqlite_app)
    answer = sqlite_app.test_client().post(
        "/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
        json={"instrument": "hue12", "channel": "api", "dossier_code": code, "answers": answers_for(catalogue),
              "idempotency_key": "k-1"})
    assert answer.status_code == 201, answer.get_json()
    reads = _reads_before_the_lock(seen)
    # the key with its unit, whether units lie below it and the dossier (one statement: names_its_dossier); the
    # idempotency key is the insert's
    assert len(reads) == 1
    assert all(not in_transaction for _, in_transaction in reads)
    writes = seen[len(reads):]
    assert writes[0][0] == "INSERT"  # the response: one statement, the constraints decide (no savepoint)
    assert all(in_transaction for _, in_transaction in writes[1:])
    # nothing read back under the lock (the answer's dossier code came from a read there)
    assert _reads_under_the_lock(seen) == []
    assert sorted(answer.get_json()["answers"]) == sorted(answers_for(catalogue))


def test_a_kiosk_rating_reads_outside_the_write_lock(sqlite_app, catalogue):
    setup = seed(sqlite_app, anonymous=True)
    seen = _watch(sqlite_app)
    answer = sqlite_app.test_client().post(
        f"/kiosk/{setup.unit_code}/api/submit", headers={"X-Kiosk-Token": setup.token},
        json={"key": "kiosk-key-0001", "instrument": "hue12", "dossier_code": setup.dossiers[0],
              "answers": answers_for(catalogue)})
    assert answer.status_code == 201, answer.get_json()
    reads = _reads_before_the_lock(seen)
    assert len(reads) == 1  # the device with its unit and the dossier (a resend is found by the insert)
    assert all(not in_transaction for _, in_transaction in reads)
    # the device's interval is the first write, after every read (it used to take the lock before the dossier)
    assert seen[len(reads)][0] == "UPDATE" and _reads_under_the_lock(seen) == []


def test_a_signed_sms_reply_reads_outside_the_write_lock_and_claims_its_delivery_last(sqlite_template, tmp_path):
    path = tmp_path / "sms.db"
    shutil.copyfile(sqlite_template, path)
    settings = make_settings(f"sqlite:///{path}", tmp_path)
    app = create_app(settings)
    try:
        with get_database(app).sessionmaker() as session:
            invited(app, session, settings)
        seen = _watch(app)
        client = app.test_client()
        answer = post_signed(client, INBOUND, inbound("1 1 1 2 1 1 1 1 1 1 3 0"))
        assert answer.status_code == 200 and "cam on" in answer.get_data(as_text=True)
        reads = _reads_before_the_lock(seen)
        assert len(reads) >= 2  # open invitations with the opt-out and conversation, the reply's wording, …
        assert all(not in_transaction for _, in_transaction in reads)
        again = post_signed(client, INBOUND, inbound("1 1 1 2 1 1 1 1 1 1 3 0"))  # Twilio's retry
        assert again.get_data(as_text=True) == answer.get_data(as_text=True)
        with get_database(app).read_sessionmaker() as check:
            assert check.scalar(select(func.count()).select_from(Response)) == 1
    finally:
        get_database(app).dispose()


def test_the_lock_is_free_while_an_intake_session_reads_and_taken_once_it_writes(sqlite_app):
    database = get_database(sqlite_app)
    path = database.engine.url.database
    with database.intake_sessionmaker() as session:
        session.execute(select(func.count()).select_from(Response)).scalar_one()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another worker writes meanwhile: not blocked
            other.execute("COMMIT")
            session.execute(text("INSERT INTO throttle_counter (key, bucket, count) VALUES ('t', 1, 1)"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            session.commit()
            other.execute("BEGIN IMMEDIATE")  # released at the commit
            other.execute("ROLLBACK")
        finally:
            other.close()
    with database.read_sessionmaker() as check:
        assert check.execute(text("SELECT count FROM throttle_counter WHERE key = 't'")).scalar_one() == 1


def test_intake_writers_of_all_processes_queue_on_one_file_lock_and_leave_it_free(sqlite_app, catalogue):
    """Between gunicorn workers, an intake writer waits on an exclusive ``flock`` of
    ``<database>-writers`` (woken when the holder is done) instead of SQLite's sleeping busy handler.
    A second open file stands for the other process here: ``flock`` locks of two open files conflict."""
    with get_database(sqlite_app).session() as session:
        unit = create_unit(session)
        key = create_key(session, unit)
        code = create_dossier(session, unit).code
    body = {"instrument": "hue12", "channel": "api", "dossier_code": code, "answers": answers_for(catalogue),
            "idempotency_key": "queued-1"}
    path = f"{get_database(sqlite_app).engine.url.database}-writers"
    other_process = os.open(path, os.O_RDWR | os.O_CREAT)
    answers: list[int] = []
    try:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        rating = threading.Thread(target=lambda: answers.append(sqlite_app.test_client().post(
            "/api/v1/responses", headers={"Authorization": f"Bearer {key}"}, json=body).status_code))
        rating.start()
        rating.join(0.5)
        assert rating.is_alive() and not answers  # queued behind the other process's writer
        with get_database(sqlite_app).read_sessionmaker() as check:
            assert check.scalar(select(func.count()).select_from(Response)) == 0
        fcntl.flock(other_process, fcntl.LOCK_UN)
        rating.join(10)
        assert answers == [201]
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # left free after the commit
    finally:
        os.close(other_process)
    with get_database(sqlite_app).read_sessionmaker() as check:
        assert check.scalar(select(func.count()).select_from(Response)) == 1
