"""An acknowledged rating is on disk: SQLite syncs the WAL at every commit (``synchronous=FULL``), or, for
intake, the request syncs it after its commit and before its answer (``sipas.storage.WalSync``).

With ``NORMAL`` alone a commit in WAL mode returns before the log is synced, so a power cut (common in ward
offices) can take back ratings the kiosk was told were stored.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from sipas.settings import Settings
from sipas.storage import Database, WalSync, get_database
from tests.factories import answers_for, create_dossier, create_key, create_unit


def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    database = Database(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'd.db'}", secret_key="t"))
    try:
        for sessionmaker in (database.sessionmaker, database.read_sessionmaker):
            with sessionmaker() as session:
                assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
                assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        database.dispose()


def test_an_intake_rating_is_synced_to_disk_after_its_commit_before_it_is_answered(sqlite_app, catalogue,
                                                                                   monkeypatch):
    """Intake commits with NORMAL and syncs the log itself, after the lock (``sipas.storage.WalSync``): the log
    must be synced once the rating is committed, before the API answers, and the connection is FULL again."""
    database = get_database(sqlite_app)
    path = str(database.engine.url.database)
    with database.session() as session:
        unit = create_unit(session)
        key = create_key(session, unit)
        code = create_dossier(session, unit).code
    synced: list[tuple[str, int]] = []  # (the file synced, ratings committed when its sync began)
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        with sqlite3.connect(path) as other:
            stored = other.execute("SELECT count(*) FROM response").fetchone()[0]
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), stored))
        real_fsync(fd)

    monkeypatch.setattr("sipas.storage.os.fsync", recording_fsync)
    answer = sqlite_app.test_client().post(
        "/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
        json={"instrument": "hue12", "channel": "api", "dossier_code": code, "answers": answers_for(catalogue)})
    assert answer.status_code == 201, answer.get_json()
    assert (f"{path}-wal", 1) in synced  # the log, synced after the rating was committed
    pooled = [database.engine.connect() for _ in range(database.engine.pool.checkedin())]  # the rating's among them
    try:
        assert [c.exec_driver_sql("PRAGMA synchronous").scalar_one() for c in pooled] == [2] * len(pooled)  # FULL
    finally:
        for connection in pooled:
            connection.close()


def test_a_failed_log_sync_is_not_answered_as_stored(sqlite_app, catalogue, monkeypatch):
    database = get_database(sqlite_app)
    with database.session() as session:
        unit = create_unit(session)
        key = create_key(session, unit)
        codes = [create_dossier(session, unit).code for _ in range(3)]

    def failing_fsync(_fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("sipas.storage.os.fsync", failing_fsync)
    sqlite_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = sqlite_app.test_client()
    for code in codes:
        answer = client.post(
            "/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
            json={"instrument": "hue12", "channel": "api", "dossier_code": code, "answers": answers_for(catalogue),
                  "idempotency_key": f"sync-{code}"})
        assert answer.status_code == 500  # not 201: the disk did not confirm it
    # every connection went back to the pool (an error inside the pool's own event used to keep them out of it)
    assert database.engine.pool.checkedout() == 0
    monkeypatch.undo()
    resent = client.post(  # the disk is back: the client's resend is answered with the stored rating
        "/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
        json={"instrument": "hue12", "channel": "api", "dossier_code": codes[0], "answers": answers_for(catalogue),
              "idempotency_key": f"sync-{codes[0]}"})
    assert resent.status_code == 200, resent.get_json()


def test_one_log_sync_covers_every_writer_that_committed_before_it_began(tmp_path, monkeypatch):
    """Eight writers: each returns only after a sync that began after it called, and they share syncs."""
    database = tmp_path / "d.db"
    (tmp_path / "d.db-wal").write_bytes(b"log")
    syncs: list[tuple[float, float]] = []

    def slow_fsync(_fd: int) -> None:
        began = time.monotonic()
        time.sleep(0.02)
        syncs.append((began, time.monotonic()))

    monkeypatch.setattr("sipas.storage.os.fsync", slow_fsync)
    wal_sync = WalSync(str(database))
    calls: list[tuple[float, float]] = []
    lock = threading.Lock()

    def writer(delay: float) -> None:
        time.sleep(delay)
        called = time.monotonic()
        wal_sync.sync()
        with lock:
            calls.append((called, time.monotonic()))

    threads = [threading.Thread(target=writer, args=(n * 0.004,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 8
    for called, returned in calls:
        assert any(called <= began and ended <= returned for began, ended in syncs), (called, returned, syncs)
    log_syncs = len(syncs) - 1  # the first also synced the folder (a log file it had not seen)
    assert log_syncs < 8
