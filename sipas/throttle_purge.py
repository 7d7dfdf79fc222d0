"""The hourly job that deletes attempt counters whose time window has ended (``sipas.throttle.purge``), and the
copies of phone numbers an interrupted import left: the staged rows of dead runs (``staging.discard_stale``, which
every import also runs first) and the uploads of jobs failed more than ``jobs.UPLOAD_KEPT`` ago."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sipas.clock import utcnow
from sipas.imports import jobs, staging
from sipas.scheduler import fenced
from sipas.settings import Settings
from sipas.storage import Database
from sipas.throttle import purge

log = logging.getLogger(__name__)
JOB_ID = "sipas.throttle_purge"
_context: dict[str, Settings] = {}


def purge_personal_copies(session: Session, now: datetime) -> tuple[int, int]:
    """(uploads, staged rows) deleted: what interrupted imports left of their files' phone numbers."""
    return jobs.purge_uploads(session, now), staging.discard_stale(session, now)


@fenced(JOB_ID)
def throttle_purge_job() -> None:
    """Module-level so the persistent job store can reference it."""
    database = Database(_context.get("settings") or Settings.from_env())  # hourly: no pool kept between runs
    try:
        with database.session() as session:
            now = utcnow()
            removed = purge(session, now)
            uploads, staged = purge_personal_copies(session, now)
    finally:
        database.dispose()
    if removed:
        log.info("%d ended attempt counter(s) purged", removed)
    if uploads or staged:
        log.info("interrupted imports: %d upload(s) and %d staged row(s) deleted", uploads, staged)


def register(scheduler: Any, settings: Settings) -> None:
    """Every hour; a run missed while the scheduler was down is not repeated (the next one catches up)."""
    _context["settings"] = settings
    scheduler.add_job(throttle_purge_job, "cron", minute=43, id=JOB_ID, replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
