"""The daily backup job: an archive a day in ``SIPAS_BACKUP_DIR``, the newest ``SIPAS_BACKUP_KEEP`` kept."""

from __future__ import annotations

import logging
from typing import Any

from sipas.backup import BackupSettings, create_backup, prune
from sipas.clock import utcnow
from sipas.scheduler import fenced, missed_run
from sipas.settings import Settings

log = logging.getLogger(__name__)
JOB_ID = "sipas.daily_backup"
_context: dict[str, Settings] = {}


@fenced(JOB_ID)
def daily_backup_job() -> None:
    """Module-level so the persistent job store can reference it."""
    settings = _context.get("settings") or Settings.from_env()
    backup = BackupSettings.from_settings(settings)
    if not backup.enabled:
        return
    path = create_backup(settings, backup.directory, now=utcnow())
    removed = prune(backup.directory, backup.keep)
    log.info("backup written to %s (%d bytes); %d old archive(s) removed", path, path.stat().st_size, len(removed))


def register(scheduler: Any, settings: Settings) -> None:
    """Every day at ``SIPAS_BACKUP_HOUR`` local time; a day missed while the scheduler was down runs at start
    (within 12 h of its time: the stored run is kept, :func:`sipas.scheduler.missed_run`)."""
    _context["settings"] = settings
    backup = BackupSettings.from_settings(settings)
    scheduler.add_job(daily_backup_job, "cron", hour=backup.hour, minute=17, id=JOB_ID, replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=12 * 3600, **missed_run(JOB_ID))
