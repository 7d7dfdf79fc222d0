"""The one scheduler process: APScheduler 3.x with its job store in the database.

APScheduler 3 has no locking across processes, so the process holds a row in ``scheduler_lock``
with a heartbeat; a second process refuses to start while the heartbeat is fresh. Channels add jobs
through ``<channel>.jobs.register(scheduler, settings)``; each job is a module-level function with a
stable id, ``replace_existing=True``, ``coalesce=True`` and ``max_instances=1``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from sipas.clock import utcnow
from sipas.models import SchedulerLock
from sipas.plugins import channel_modules
from sipas.settings import Settings
from sipas.storage import Database

log = logging.getLogger(__name__)
LOCK_NAME = "scheduler"
STALE_AFTER = timedelta(seconds=90)
HEARTBEAT_SECONDS = 30


class SchedulerAlreadyRunning(RuntimeError):
    pass


def _holder_is_dead(holder: str) -> bool:
    """A holder on this host whose process no longer exists (crashed, killed -9) can be replaced at once."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lock(database: Database, holder: str, *, now: datetime) -> None:
    """Take the scheduler lock, or raise if another live process holds it."""
    with database.session() as session:
        row = session.get(SchedulerLock, LOCK_NAME)
        if (row is not None and row.holder != holder and now - row.heartbeat_at < STALE_AFTER
                and not _holder_is_dead(row.holder)):
            raise SchedulerAlreadyRunning(f"scheduler already running ({row.holder}, heartbeat {row.heartbeat_at})")
        if row is not None:
            session.execute(delete(SchedulerLock).where(SchedulerLock.name == LOCK_NAME,
                                                        SchedulerLock.holder == row.holder))
        session.add(SchedulerLock(name=LOCK_NAME, holder=holder, heartbeat_at=now))
        try:
            session.flush()
        except IntegrityError as exc:
            raise SchedulerAlreadyRunning("another scheduler took the lock at the same moment") from exc


def heartbeat(database: Database, holder: str) -> None:
    with database.session() as session:
        result = session.execute(update(SchedulerLock).where(SchedulerLock.name == LOCK_NAME,
                                                             SchedulerLock.holder == holder)
                                 .values(heartbeat_at=utcnow()))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise SchedulerAlreadyRunning("lost the scheduler lock")


def release_lock(database: Database, holder: str) -> None:
    with database.session() as session:
        session.execute(delete(SchedulerLock).where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == holder))


def lock_holder(database: Database) -> str | None:
    with database.session() as session:
        return session.scalar(select(SchedulerLock.holder).where(SchedulerLock.name == LOCK_NAME))


def build_scheduler(settings: Settings) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs"),
            "memory": MemoryJobStore(),  # the lock heartbeat belongs to this process only
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=settings.tz,
    )
    for module in channel_modules("jobs"):
        module.register(scheduler, settings)
    return scheduler


_heartbeat_context: dict[str, object] = {}


def heartbeat_job() -> None:
    """Module-level so the persistent job store can reference it."""
    database = _heartbeat_context["database"]
    holder = _heartbeat_context["holder"]
    assert isinstance(database, Database) and isinstance(holder, str)
    heartbeat(database, holder)


def _stop(scheduler: BlockingScheduler) -> None:
    """SIGTERM: let ``start()`` return so the lock is released (shutdown() raises if not running yet)."""
    if scheduler.running:
        scheduler.shutdown(wait=False)
    else:
        raise SystemExit(0)


def run(settings: Settings) -> None:
    database = Database(settings)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    acquire_lock(database, holder, now=utcnow())
    _heartbeat_context.update(database=database, holder=holder)
    scheduler = build_scheduler(settings)
    scheduler.add_job(heartbeat_job, "interval", seconds=HEARTBEAT_SECONDS, id="sipas.heartbeat",
                      replace_existing=True, jobstore="memory")
    log.info("scheduler started as %s with jobs: %s", holder, [j.id for j in scheduler.get_jobs()])
    signal.signal(signal.SIGTERM, lambda *_: _stop(scheduler))
    try:
        scheduler.start()
    finally:
        release_lock(database, holder)
        database.dispose()
