"""The scheduler lease fences jobs: a job runs, and commits, only while its process holds the lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from sipas.models import AuditEvent, SchedulerJobRun, SchedulerLock
from sipas.scheduler import LeaseLost, acquire_lock, activate, deactivate, fenced
from sipas.storage import Database


@pytest.fixture
def database(settings):
    database = Database(settings)
    yield database
    deactivate()
    database.dispose()


def _take_over(database: Database) -> None:
    """What a second scheduler does once this one's lease expired: a new holder and a larger token."""
    with database.session() as session:
        session.info["sipas_fence_checked"] = True  # written by the other process, not by the fenced job
        session.execute(update(SchedulerLock).values(holder="other:2", token=SchedulerLock.token + 1,
                                                     expires_at=datetime.now(UTC) + timedelta(minutes=5)))


def _write_audit(database: Database, action: str) -> None:
    with database.session() as session:
        session.add(AuditEvent(action=action, actor="job", subject="", details={}))


def test_a_job_runs_and_is_logged_while_the_lease_is_held(database):
    lease = acquire_lock(database, "host:1", now=datetime.now(UTC), seconds=30)
    activate(database, lease)
    job = fenced("test.job")(lambda: _write_audit(database, "job.ran"))
    job()
    with database.session() as session:
        runs = session.scalars(select(SchedulerJobRun)).all()
        assert [(r.job_id, r.holder, r.token, r.outcome) for r in runs] == [("test.job", "host:1", lease.token, "ok")]
        assert session.scalar(select(AuditEvent.action)) == "job.ran"
        assert session.get(SchedulerLock, "scheduler").expires_at > datetime.now(UTC) + timedelta(seconds=20)


def test_a_job_refuses_to_start_once_another_process_took_the_lease(database):
    lost: list[LeaseLost] = []
    activate(database, acquire_lock(database, "host:1", now=datetime.now(UTC)), lost.append)
    _take_over(database)
    ran = []
    with pytest.raises(LeaseLost):
        fenced("test.job")(lambda: ran.append(1))()
    assert ran == [] and len(lost) == 1
    with database.session() as session:
        assert session.scalars(select(SchedulerJobRun)).all() == []


def test_a_commit_made_after_the_lease_was_taken_is_rolled_back(database):
    """The process paused in the middle of a job: what it writes after waking never lands."""
    lost: list[LeaseLost] = []
    activate(database, acquire_lock(database, "host:1", now=datetime.now(UTC)), lost.append)

    def job() -> None:
        _write_audit(database, "job.before")
        _take_over(database)  # the pause: the other scheduler takes over meanwhile
        _write_audit(database, "job.after")

    with pytest.raises(LeaseLost):
        fenced("test.job")(job)()
    assert len(lost) == 1
    with database.session() as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["job.before"]
        (run,) = session.scalars(select(SchedulerJobRun)).all()
        assert run.outcome == "running" and run.finished_at is None


def test_a_job_outside_the_scheduler_is_refused(database):
    with pytest.raises(LeaseLost):
        fenced("test.job")(lambda: None)()


def test_a_failing_job_is_logged_as_failed(database):
    activate(database, acquire_lock(database, "host:1", now=datetime.now(UTC)))

    def job() -> None:
        raise ValueError("provider down")

    with pytest.raises(ValueError):
        fenced("test.job")(job)()
    with database.session() as session:
        (run,) = session.scalars(select(SchedulerJobRun)).all()
        assert run.outcome == "failed" and run.finished_at is not None


class _SchedulerWokenFromAPause:
    """Stands for APScheduler's loop after a SIGSTOP on PostgreSQL: another scheduler took the lease over meanwhile
    (or not) and the job store's first query meets the session the server ended (``OperationalError``)."""

    running = False

    def __init__(self, database: Database, *, taken_over: bool) -> None:
        self.database, self.taken_over = database, taken_over

    def add_job(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def get_jobs(self) -> list[object]:
        return []

    def start(self) -> None:
        from sqlalchemy.exc import OperationalError

        if self.taken_over:
            _take_over(self.database)
        raise OperationalError("SELECT apscheduler_jobs.next_run_time", {}, Exception("server closed the connection"))


@pytest.mark.parametrize("taken_over", [True, False])
def test_a_scheduler_whose_session_was_ended_during_a_pause_says_whether_it_lost_the_lease(
        settings, database, monkeypatch, taken_over):
    """It used to die with the job store's raw ``OperationalError`` when that came before the heartbeat's check
    (tests/faults/test_scheduler_takeover.py on PostgreSQL, now and then); the operator now reads that the lease
    was lost, and a database error with the lease still held stays that error."""
    import signal

    from sqlalchemy.exc import OperationalError

    from sipas import scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "build_scheduler",
                        lambda _settings: _SchedulerWokenFromAPause(database, taken_over=taken_over))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        if taken_over:
            with pytest.raises(LeaseLost, match=r"lost the scheduler lock .* to other:2"):
                scheduler_module.run(settings)
        else:
            with pytest.raises(OperationalError):
                scheduler_module.run(settings)
    finally:
        signal.signal(signal.SIGTERM, previous)
    with database.read_sessionmaker() as session:
        row = session.get(SchedulerLock, "scheduler")
        assert row is not None and (row.holder == "other:2") == taken_over  # a lost lease is not released
