"""The hourly job that deletes attempt counters whose time window has ended (``sipas.throttle.purge``)."""

from __future__ import annotations

import logging
from typing import Any

from sipas.clock import utcnow
from sipas.scheduler import fenced
from sipas.settings import Settings
from sipas.storage import Database
from sipas.throttle import purge

log = logging.getLogger(__name__)
JOB_ID = "sipas.throttle_purge"
_context: dict[str, Settings] = {}


@fenced(JOB_ID)
def throttle_purge_job() -> None:
    """Module-level so the persistent job store can reference it."""
    database = Database(_context.get("settings") or Settings.from_env())  # hourly: no pool kept between runs
    try:
        with database.session() as session:
            removed = purge(session, utcnow())
    finally:
        database.dispose()
    if removed:
        log.info("%d ended attempt counter(s) purged", removed)


def register(scheduler: Any, settings: Settings) -> None:
    """Every hour; a run missed while the scheduler was down is not repeated (the next one catches up)."""
    _context["settings"] = settings
    scheduler.add_job(throttle_purge_job, "cron", minute=43, id=JOB_ID, replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
