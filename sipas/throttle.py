"""Atomic attempt counters in the database: the limit holds across gunicorn workers and hosts.

Counting rows and then inserting one let parallel requests all read the same count and all pass
(11 password checks against a limit of 5 on PostgreSQL). Here an attempt is *taken first*, in one
statement — ``INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count`` on the row of
(key, time window) — and allowed only if the count it got back is within the limit; the row lock
serialises concurrent takers on PostgreSQL, and SQLite's write transaction (BEGIN IMMEDIATE) does the
same. A successful attempt gives its count back (:func:`refund`). Each row knows when its window ends,
so the rows of keys that never come back (one per client address) are purged by :func:`purge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from sipas.driver_statements import DriverStatement
from sipas.models import ThrottleCounter
from sipas.upsert import dialect_insert


@dataclass(frozen=True)
class Limit:
    """At most ``count`` attempts per ``key`` in each fixed window of ``window``."""

    key: str
    count: int
    window: timedelta


def _seconds(limit: Limit) -> int:
    return max(int(limit.window.total_seconds()), 1)


def _bucket(limit: Limit, now: datetime) -> int:
    return int(now.timestamp() // _seconds(limit))


def take_values(limit: Limit, now: datetime) -> dict[str, Any]:
    """The parameters of a take (:func:`take`, or a statement of :func:`take_statement` with more of its own)."""
    bucket = _bucket(limit, now)
    return {"key": limit.key[:200], "bucket": bucket, "count": 1, "expires": (bucket + 1) * _seconds(limit)}


def take(session: Session, limit: Limit, now: datetime) -> bool:
    """Count one attempt against ``limit``; True when it is within the limit (the attempt may go on)."""
    values = take_values(limit, now)
    # One statement, nothing else: an intake request takes its limits inside the write transaction. The key's
    # ended windows are never read again and go with the hourly purge (they were deleted here, one more
    # statement under SQLite's write lock for almost every SMS reply: each number's first of the day).
    connection = session.connection()
    returned = _TAKE[connection.dialect.name].returned(connection, values)
    assert returned is not None  # an upsert always returns its row
    return int(returned[0]) <= limit.count


def _take_statement(dialect_name: str) -> Any:
    statement = dialect_insert(dialect_name, ThrottleCounter.__table__)
    return statement.on_conflict_do_update(index_elements=["key", "bucket"],
                                           set_={"count": ThrottleCounter.__table__.c.count + 1}
                                           ).returning(ThrottleCounter.__table__.c.count)


#: The parameters a take's statement sets (``DriverStatement(..., keys=TAKE_KEYS)``).
TAKE_KEYS = ("key", "bucket", "count", "expires")


def take_statement(dialect_name: str, *also: Any) -> Any:
    """A take's statement returning, after the count it got, the values of ``also`` (a caller's scalar
    sub-select, read in the same statement); run it with :func:`take_values` and the sub-select's parameters."""
    return _take_statement(dialect_name).returning(*also)


# Built once per dialect (a statement's cache key is memoised on the object: docs/performance.md).
_TAKE = {name: DriverStatement(_take_statement(name), keys=TAKE_KEYS)
         for name in ("sqlite", "postgresql")}  # on the driver's cursor (sipas.driver_statements)
_counters = ThrottleCounter.__table__
_REFUND = DriverStatement(update(_counters).where(_counters.c.key == bindparam("k"),
                                                  _counters.c.bucket == bindparam("b"), _counters.c.count > 0)
                          .values(count=_counters.c.count - 1))


def take_all(session: Session, limits: list[Limit], now: datetime) -> bool:
    """Take one attempt from every limit (all are counted, so a blocked client keeps being counted)."""
    return blocked_until(session, limits, now) is None


def window_end(limit: Limit, now: datetime) -> datetime:
    """The instant the window of ``limit`` holding ``now`` ends (a new count starts there)."""
    return datetime.fromtimestamp((_bucket(limit, now) + 1) * _seconds(limit), UTC)


def blocked_until(session: Session, limits: list[Limit], now: datetime) -> datetime | None:
    """Take one attempt from every limit, as :func:`take_all`; None when all allow it, else when the last of the
    limits that refused it ends its window (the earliest instant the attempt can pass)."""
    refused = [limit for limit in limits if not take(session, limit, now)]
    return max((window_end(limit, now) for limit in refused), default=None)


def exhausted(session: Session, limit: Limit, now: datetime) -> bool:
    """Whether ``limit`` is used up in the current window (a read: nothing is counted)."""
    count = session.scalar(select(ThrottleCounter.count).where(ThrottleCounter.key == limit.key[:200],
                                                               ThrottleCounter.bucket == _bucket(limit, now)))
    return count is not None and count >= limit.count


def refund(session: Session, limit: Limit, now: datetime) -> None:
    """Give back the attempt taken in this window (it succeeded)."""
    _REFUND.run(session.connection(), {"k": limit.key[:200], "b": _bucket(limit, now)})


def clear(session: Session, key_prefix: str) -> None:
    """Forget every counter whose key starts with ``key_prefix`` (an operator reset a password)."""
    session.execute(delete(ThrottleCounter).where(ThrottleCounter.key.startswith(key_prefix, autoescape=True)))


def purge(session: Session, now: datetime) -> int:
    """Delete the counters whose window has ended; the number deleted."""
    return session.execute(delete(ThrottleCounter).where(ThrottleCounter.expires <= int(now.timestamp()))).rowcount
