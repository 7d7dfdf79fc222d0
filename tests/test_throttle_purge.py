"""Attempt counters of ended windows are purged every hour; a window still open keeps its count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sipas import throttle, throttle_purge
from sipas.models import ThrottleCounter
from sipas.scheduler import build_scheduler
from sipas.settings import Settings
from tests.scheduler_support import holding_the_lease

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def test_purge_deletes_ended_windows_only(session):
    quarter = throttle.Limit("link:203.0.113.7", 5, timedelta(minutes=15))
    day = throttle.Limit("sms-reply:abc", 10, timedelta(days=1))
    assert throttle.take(session, quarter, NOW - timedelta(hours=1))  # a client that never came back
    assert throttle.take(session, day, NOW - timedelta(hours=1))  # same hour, a day-long window
    assert throttle.take(session, quarter.__class__("link:198.51.100.9", 5, quarter.window), NOW)
    assert throttle.purge(session, NOW) == 1
    assert sorted(session.scalars(select(ThrottleCounter.key))) == ["link:198.51.100.9", "sms-reply:abc"]
    assert throttle.take(session, day, NOW) and session.scalars(select(ThrottleCounter.count).where(
        ThrottleCounter.key == "sms-reply:abc")).one() == 2  # the open day window kept counting


def test_the_scheduler_purges_every_hour(settings, session, tmp_path):
    assert throttle.take(session, throttle.Limit("login-client:10.0.0.1", 5, timedelta(minutes=15)),
                         datetime.now(UTC) - timedelta(hours=2))
    session.commit()
    scheduler = build_scheduler(Settings.from_env({}, database_url=settings.database_url))
    (job,) = [j for j in scheduler.get_jobs() if j.id == throttle_purge.JOB_ID]
    assert str(job.trigger) == "cron[minute='43']"
    throttle_purge.register(scheduler, settings)
    try:
        with holding_the_lease(settings):
            throttle_purge.throttle_purge_job()
    finally:
        throttle_purge._context.clear()
    session.expire_all()
    assert session.scalars(select(ThrottleCounter)).all() == []


def test_taking_an_attempt_is_one_statement_even_in_a_new_window(session):
    """Intake takes its limits inside the write transaction: a new window costs no extra ``DELETE`` of the
    key's ended windows (they stay until the hourly purge, and no take reads them)."""
    from sqlalchemy import event

    limit = throttle.Limit("sms-reply:def", 10, timedelta(days=1))
    assert throttle.take(session, limit, NOW - timedelta(days=1))
    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert throttle.take(session, limit, NOW)  # the first attempt of the next day's window
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT")
    counts = dict(session.execute(select(ThrottleCounter.bucket, ThrottleCounter.count)
                                  .where(ThrottleCounter.key == "sms-reply:def")).all())
    assert sorted(counts.values()) == [1, 1]  # the new window counts from one; the ended one waits for the purge
    assert throttle.purge(session, NOW) == 1
