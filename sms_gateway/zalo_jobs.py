"""The safety net under ``user_feedback`` events: an hourly pull of ``rating/get`` per unit rating template
(the last two days, paged), stored like the events (the same submission is never stored twice)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from sipas.models import Unit
from sipas.scheduler import fenced, missed_run
from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.providers.base import TemporaryFailure
from sms_gateway.providers.zalo import TokenUnavailable, ZaloClient
from sms_gateway.zalo_rating import Submission, load_versions, record_submission
from sms_gateway.zalo_settings import ZaloSettings, unit_rating_template_id
from sms_gateway.zalo_tokens import DatabaseTokens, token_state

log = logging.getLogger(__name__)
JOB_ID = "sms_gateway.zalo_ratings"
LOOK_BACK = timedelta(days=2)
PAGE = 500
MAX_PAGES = 20


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def pull_ratings(database: Database, settings: Settings, *, now: datetime, client: ZaloClient | None = None,
                 tokens: Any = None) -> int:
    """Ratings stored by this pull (those already stored from events are skipped)."""
    zalo = ZaloSettings.from_settings(settings)
    if not zalo.configured:
        return 0
    with database.read_sessionmaker() as session:
        if token_state(session) is None:
            return 0
        templates = sorted({t for unit in session.scalars(select(Unit)) if (t := unit_rating_template_id(unit))})
    if not templates:
        return 0
    client = client or ZaloClient(zalo)
    tokens = tokens or DatabaseTokens(database, zalo, client)
    versions = load_versions(settings.config_dir)
    stored = 0
    for template in templates:
        for page in range(MAX_PAGES):
            try:
                data = client.get(tokens.current(), "/rating/get", {
                    "template_id": template, "from_time": _ms(now - LOOK_BACK), "to_time": _ms(now),
                    "offset": page * PAGE, "limit": PAGE})
            except (TemporaryFailure, TokenUnavailable) as exc:
                log.warning("Zalo rating pull for template %s failed: %s", template, exc)
                break
            inner = data.get("data") if isinstance(data.get("data"), dict) else {}
            rows = [r for r in inner.get("data") or [] if isinstance(r, dict)]
            with database.session() as session:
                for row in rows:
                    submission = Submission.parse(row, camel=True)
                    if submission is not None and record_submission(session, versions, submission, source="pull",
                                                                     tz=settings.tz, now=now):
                        stored += 1
            if len(rows) < PAGE:
                break
    return stored


_context: dict[str, Any] = {}


def _database() -> tuple[Database, Settings]:
    settings = _context.get("settings") or Settings.from_env()
    database = _context.get("database")
    if database is None:
        database = _context["database"] = Database(settings)
        _context["settings"] = settings
    return database, settings


@fenced(JOB_ID)
def _pull(now: datetime) -> int:
    database, settings = _database()
    return pull_ratings(database, settings, now=now)


def pull_ratings_job() -> None:
    """Module-level for the job store; a database or Zalo outage only skips this run."""
    from sipas.clock import utcnow
    from sipas.failures import database_unavailable

    try:
        stored = _pull(utcnow())
    except Exception as exc:
        if database_unavailable(exc) is None:
            raise
        log.warning("Zalo rating pull skipped: %s", database_unavailable(exc))
        return
    if stored:
        log.info("Zalo rating pull stored %s rating(s) missed by the events", stored)


def register(scheduler: Any, settings: Settings) -> None:
    """Every hour; a pull missed while the scheduler was down is made once at start, however late: it reads the
    last two days whenever it runs, so it is never too late to find ratings the events missed."""
    _context["settings"] = settings
    scheduler.add_job(pull_ratings_job, "interval", hours=1, id=JOB_ID, replace_existing=True, coalesce=True,
                      max_instances=1, misfire_grace_time=None, **missed_run(JOB_ID))
