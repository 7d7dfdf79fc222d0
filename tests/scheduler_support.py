"""Run a fenced scheduler job in a test as the scheduler would: while this process holds the lease."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sipas.scheduler import acquire_lock, activate, deactivate
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
