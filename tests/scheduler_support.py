"""Run a fenced scheduler job in a test as the scheduler would: while this process holds the lease; start the
scheduler's job stores as `sipas scheduler` does, without its loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from sipas.scheduler import acquire_lock, activate, build_scheduler, deactivate
from sipas.settings import Settings
from sipas.storage import Database


@contextmanager
def holding_the_lease(settings: Settings) -> Iterator[Database]:
    """Take the scheduler lease for ``settings``' database; give it back and close the pool afterwards."""
    database = Database(settings)
    activate(database, acquire_lock(database, "host:1", now=datetime.now(UTC)))
    try:
        yield database
    finally:
        deactivate()
        database.dispose()


@contextmanager
def started_scheduler(settings: Settings) -> Iterator[BlockingScheduler]:
    """``build_scheduler`` then what ``BlockingScheduler.start`` does before its loop (the job stores start and the
    registered jobs are written to them), paused: no job runs. Shut down afterwards."""
    scheduler = build_scheduler(settings)
    scheduler._event = threading.Event()  # type: ignore[attr-defined]  # BlockingScheduler.start sets it
    BaseScheduler.start(scheduler, paused=True)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
