"""Counting failed short-link lookups per client in the database (holds across gunicorn workers).

Codes carry ~59 bits, so guessing is hopeless anyway; the limit keeps scanners from hammering the
database. It reuses the core's ``LoginAttempt`` rows under a ``link:`` key of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sipas.models import LoginAttempt
from sipas.settings import Settings, env_int

WINDOW = timedelta(minutes=15)


def max_failures(settings: Settings) -> int:
    return env_int(settings.env, "SIPAS_LINK_MAX_FAILURES", 30, minimum=1)


def _key(client: str) -> str:
    return f"link:{client}"[:200]


def is_throttled(session: Session, settings: Settings, client: str, now: datetime) -> bool:
    count = session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.key == _key(client), LoginAttempt.at >= now - WINDOW)
    ) or 0
    return count >= max_failures(settings)


def record_failure(session: Session, client: str, now: datetime) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == _key(client), LoginAttempt.at < now - WINDOW))
    session.add(LoginAttempt(key=_key(client), at=now))


def count_miss(session: Session, settings: Settings, client: str, now: datetime) -> bool:
    """Count one unknown code from ``client`` unless it is already over the limit; True when throttled."""
    if is_throttled(session, settings, client, now):
        return True
    record_failure(session, client, now)
    return False
