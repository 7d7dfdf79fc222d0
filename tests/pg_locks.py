"""Waiting, in a test, until another session of a PostgreSQL database waits on a lock (``pg_stat_activity``).

A test of a race lets one side take its lock, starts the other in a thread, and goes on only once that thread is
blocked on the lock: then the order of the two is the one the test means, not the one the scheduler chose."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from sipas.storage import Database


def wait_for_lock_waiter(database: Database, *, worker: threading.Thread | None = None, timeout: float = 10.0) -> None:
    """Until some session of ``database`` waits on a lock, or ``worker`` (when given) has ended; AssertionError when
    neither happens within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    with database.read_sessionmaker() as probe:
        while time.monotonic() < deadline and (worker is None or worker.is_alive()):
            waiting = probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND wait_event_type = 'Lock'")).scalar()
            probe.rollback()  # the statistics are a snapshot per transaction
            if waiting:
                return
            time.sleep(0.05)
    if worker is None:
        raise AssertionError("no session waited on a lock")
    assert not worker.is_alive(), "the worker neither ended nor waited on a lock"
