"""Counting failed short-link lookups per client in the database (holds across gunicorn workers).

Codes carry ~59 bits, so guessing is hopeless anyway; the limit keeps scanners from hammering the
database. A blank ballot's link is valid and asks for a dossier code: the codes typed there that find no
dossier it may rate count as misses too (a photographed sheet was a way to try a day's codes one by one).
Each miss is taken atomically from a ``link:<client>`` counter (``sipas.throttle``), so
parallel misses cannot all read the same count and pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sipas.settings import Settings, env_int
from sipas.throttle import Limit, exhausted, take

WINDOW = timedelta(minutes=15)


def max_failures(settings: Settings) -> int:
    return env_int(settings.env, "SIPAS_LINK_MAX_FAILURES", 30, minimum=1)


def limit(settings: Settings, client: str) -> Limit:
    return Limit(f"link:{client}"[:200], max_failures(settings), WINDOW)


def count_miss(session: Session, settings: Settings, client: str, now: datetime) -> bool:
    """Count one unknown code from ``client``; True when the client is over the limit (throttled)."""
    return not take(session, limit(settings, client), now)


def over_limit(session: Session, settings: Settings, client: str, now: datetime) -> bool:
    """Whether ``client`` has used up its misses in this window (nothing is counted)."""
    return exhausted(session, limit(settings, client), now)
