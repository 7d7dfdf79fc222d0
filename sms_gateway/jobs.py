"""The scheduler job: one invitation cycle every minute, by default (state lives in the database)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sipas.clock import utcnow
from sipas.scheduler import fenced
from sipas.settings import Settings, env_int
from sipas.storage import Database

log = logging.getLogger(__name__)
JOB_ID = "sms_gateway.send_due"
MAX_BACKOFF = timedelta(minutes=8)
_context: dict[str, Any] = {}


def _database() -> tuple[Database, Settings]:
    settings = _context.get("settings") or Settings.from_env()
    database = _context.get("database")
    if database is None:
        database = _context["database"] = Database(settings)
        _context["settings"] = settings
    return database, settings


def send_due_job() -> None:
    """Module-level so the persistent job store can reference it; reads the clock once, here.

    While the database cannot be used (PostgreSQL down, SQLite locked) the cycle is skipped with a
    warning, and the next ones wait twice as long each time (up to ``MAX_BACKOFF``) instead of failing
    every minute; nothing is claimed, so no attempt is used up. The backoff sits outside the fence:
    renewing the scheduler's lease needs the database too, and its failure is an outage like any other.
    """
    from sipas.failures import database_unavailable

    now = utcnow()
    resume_at = _context.get("resume_at")
    if resume_at is not None and now < resume_at:
        return
    try:
        summary = _send_due_cycle(now)
    except Exception as exc:
        reason = database_unavailable(exc)
        if reason is None:
            raise
        backoff = min(_context.get("backoff", timedelta(0)) * 2 or timedelta(minutes=1), MAX_BACKOFF)
        _context["backoff"], _context["resume_at"] = backoff, now + backoff
        log.warning("sms cycle skipped: %s; next try in %s", reason, backoff)
        return
    _context.pop("backoff", None)
    _context.pop("resume_at", None)
    log.info("sms cycle: %s", summary)


@fenced(JOB_ID)
def _send_due_cycle(now: datetime) -> Any:
    """One sending cycle, run only while this process holds the scheduler lease."""
    from sms_gateway.sending import run_cycle

    database, settings = _database()
    return run_cycle(database, settings, now=now)


def cycle_seconds(settings: Settings) -> int:
    return env_int(settings.env, "SIPAS_SMS_CYCLE_SECONDS", 60, minimum=1)


def register(scheduler: Any, settings: Settings) -> None:
    _context["settings"] = settings
    seconds = cycle_seconds(settings)
    scheduler.add_job(send_due_job, "interval", seconds=seconds, id=JOB_ID, replace_existing=True, coalesce=True,
                      max_instances=1, next_run_time=utcnow())  # first run at start: a restart catches up
    from sms_gateway import zalo_jobs

    zalo_jobs.register(scheduler, settings)  # the hourly rating/get safety net
