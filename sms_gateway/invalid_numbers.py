"""Numbers a provider said cannot receive SMS (Twilio 21211, eSMS 108), by keyed phone hash.

Such a number gets no invitation again (``invitations.candidates`` leaves it out and the send step
fails a pending one); a corrected number has another hash and is invited normally.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_gateway.models import InvalidNumber


def is_invalid(session: Session, phone_hash: str | None) -> bool:
    return bool(phone_hash) and session.get(InvalidNumber, phone_hash) is not None


def mark_invalid(session: Session, phone_hash: str, *, now: datetime, error_code: str, provider: str) -> None:
    """Record the number once (the primary key is the guard when two processes record it together)."""
    if session.get(InvalidNumber, phone_hash) is not None:
        return
    try:
        with session.begin_nested():
            session.add(InvalidNumber(phone_hash=phone_hash, error_code=error_code[:32], provider=provider,
                                      marked_at=now))
            session.flush()
    except IntegrityError:
        pass
