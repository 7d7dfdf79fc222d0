"""The scheduler job: one invitation cycle every minute, by default (state lives in the database)."""

from __future__ import annotations

import logging
from typing import Any

from sipas.clock import utcnow
from sipas.scheduler import fenced
from sipas.settings import Settings, env_int
from sipas.storage import Database

log = logging.getLogger(__name__)
JOB_ID = "sms_gateway.send_due"
_context: dict[str, Any] = {}


def _database() -> tuple[Database, Settings]:
    settings = _context.get("settings") or Settings.from_env()
    database = _context.get("database")
    if database is None:
        database = _context["database"] = Database(settings)
        _context["settings"] = settings
    return database, settings


@fenced(JOB_ID)
def send_due_job() -> None:
    """Module-level so the persistent job store can reference it; reads the clock once, here."""
    from sms_gateway.sending import run_cycle

    database, settings = _database()
    summary = run_cycle(database, settings, now=utcnow())
    log.info("sms cycle: %s", summary)


def register(scheduler: Any, settings: Settings) -> None:
    _context["settings"] = settings
    seconds = env_int(settings.env, "SIPAS_SMS_CYCLE_SECONDS", 60, minimum=1)
    scheduler.add_job(send_due_job, "interval", seconds=seconds, id=JOB_ID, replace_existing=True, coalesce=True,
                      max_instances=1, next_run_time=utcnow())  # first run at start: a restart catches up
