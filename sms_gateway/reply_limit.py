"""At most ``REPLY_LIMIT`` answers to one number in any 24 hours, so an auto-responder at the other end
cannot start an endless exchange — and the limit holds when the number's messages arrive at once.

Counting the last 24 hours' answers and then answering let parallel requests all read the same count (every
one of 16 messages sent together was answered on PostgreSQL). An answer is now *taken first* from a
:mod:`sipas.throttle` counter of the number, in one statement: its row stays locked until the webhook's
transaction ends, so the number's concurrent requests pass one at a time (SQLite's write transaction does the
same), and the counter's fixed day window alone already refuses the eleventh. The rolling count that follows
keeps the limit's meaning, any 24 hours rather than a calendar day: answers given late in the previous window
still count. An attempt the rolling count refuses is given back, so the counter holds only answers given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from sipas.driver_statements import DriverStatement
from sipas.throttle import Limit, refund, take
from sms_gateway.models import MessageKind, OutboundMessage

REPLY_LIMIT = 10
WINDOW = timedelta(hours=24)


def _limit(phone_hash: str) -> Limit:
    return Limit(f"sms-reply:{phone_hash}", REPLY_LIMIT, WINDOW)


def take_reply(session: Session, phone_hash: str, now: datetime) -> bool:
    """Count one answer to the number; True when it may be sent (the caller then stores it before committing)."""
    limit = _limit(phone_hash)
    if not take(session, limit, now):
        return False
    if replies_today(session, phone_hash, now) >= REPLY_LIMIT:
        refund(session, limit, now)
        return False
    return True


def replies_today(session: Session, phone_hash: str, now: datetime) -> int:
    """Answers stored for the number in the last 24 hours (replies and follow-up questions alike)."""
    return _REPLIES_SINCE.scalar(session.connection(), {"to_hash": phone_hash, "since": now - WINDOW}) or 0


_REPLIES_SINCE = DriverStatement(select(func.count()).select_from(OutboundMessage).where(  # every SMS reply
    OutboundMessage.to_hash == bindparam("to_hash"),
    or_(OutboundMessage.kind == MessageKind.REPLY, OutboundMessage.kind == MessageKind.FOLLOW_UP),
    OutboundMessage.created_at > bindparam("since")))
