"""At most ``REPLY_LIMIT`` answers to one number in any 24 hours, so an auto-responder at the other end
cannot start an endless exchange — and the limit holds when the number's messages arrive at once.

Counting the last 24 hours' answers and then answering let parallel requests all read the same count (every
one of 16 messages sent together was answered on PostgreSQL). An answer is now *taken first* from a
:mod:`sipas.throttle` counter of the number, in one statement: its row stays locked until the webhook's
transaction ends, so the number's concurrent requests pass one at a time (SQLite's write transaction does the
same), and the counter's fixed day window alone already refuses the eleventh. The rolling count that follows
keeps the limit's meaning, any 24 hours rather than a calendar day: answers given late in the previous window
still count. An attempt the rolling count refuses is given back, so the counter holds only answers given.

On SQLite the take and the rolling count are one statement (the count a sub-select in the take's ``RETURNING``):
the write transaction holds the database's write lock from its first write, so nothing can be stored between the
two and the count is the same. On PostgreSQL they stay two: a statement reads with the snapshot it started with,
before the take may have waited for the row lock of the number's other answer, so a count in the same statement
would miss that answer once it commits; the count that follows the take sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from sipas.driver_statements import DriverStatement
from sipas.throttle import TAKE_KEYS, Limit, refund, take, take_statement, take_values
from sms_gateway.models import MessageKind, OutboundMessage

REPLY_LIMIT = 10
WINDOW = timedelta(hours=24)


def _limit(phone_hash: str) -> Limit:
    return Limit(f"sms-reply:{phone_hash}", REPLY_LIMIT, WINDOW)


def take_reply(session: Session, phone_hash: str, now: datetime, *, taken: int | None = None) -> bool:
    """Count one answer to the number; True when it may be sent (the caller then stores it before committing).

    ``taken``: the count a caller's own take returned (a statement of :func:`reply_take_statement`, run with
    :func:`reply_take_values`, on PostgreSQL: an SMS reply's invitation answered in the same statement)."""
    limit = _limit(phone_hash)
    connection = session.connection()
    if taken is not None:
        if taken > limit.count:
            return False
        replies = replies_today(session, phone_hash, now)
    elif connection.dialect.name == "sqlite":  # one statement: see the module's docstring
        returned = _TAKE_AND_COUNT.returned(connection, take_values(limit, now) | _since(phone_hash, now))
        assert returned is not None  # an upsert always returns its row
        if int(returned[0]) > limit.count:
            return False
        replies = int(returned[1] or 0)
    else:
        if not take(session, limit, now):
            return False
        replies = replies_today(session, phone_hash, now)
    if replies >= REPLY_LIMIT:
        refund(session, limit, now)
        return False
    return True


def reply_take_statement(*also: Any) -> Any:
    """PostgreSQL: the reply limit's take returning, after its count, the values of ``also`` (a caller adds its own
    writes to the statement as CTEs); its count goes to ``take_reply(taken=...)``."""
    return take_statement("postgresql", *also)


def reply_take_values(phone_hash: str, now: datetime) -> dict[str, Any]:
    """The parameters of a statement of :func:`reply_take_statement` (the caller's own added)."""
    return take_values(_limit(phone_hash), now)


def replies_today(session: Session, phone_hash: str, now: datetime) -> int:
    """Answers stored for the number in the last 24 hours (replies and follow-up questions alike)."""
    return _REPLIES_SINCE.scalar(session.connection(), _since(phone_hash, now)) or 0


def _since(phone_hash: str, now: datetime) -> dict[str, object]:
    return {"to_hash": phone_hash, "since": now - WINDOW}


_replies_since = select(func.count()).select_from(OutboundMessage).where(
    OutboundMessage.to_hash == bindparam("to_hash"),
    or_(OutboundMessage.kind == MessageKind.REPLY, OutboundMessage.kind == MessageKind.FOLLOW_UP),
    OutboundMessage.created_at > bindparam("since"))
# Built once: every SMS reply runs them (a statement's cache key is memoised on the object: docs/performance.md).
_REPLIES_SINCE = DriverStatement(_replies_since)
_TAKE_AND_COUNT = DriverStatement(take_statement("sqlite", _replies_since.scalar_subquery()), keys=TAKE_KEYS)
