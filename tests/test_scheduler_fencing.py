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


def test_a_job_running_at_sigterm_finishes_under_the_lease_before_it_is_given_up(settings, database, monkeypatch):
    """`systemctl stop/restart sipas-scheduler` (every upgrade, docs/install.md) sends SIGTERM. The lease used to be
    released at once while a job still ran: its later commits failed the fence with LeaseLost though no scheduler
    took over (an SMS batch the provider accepted lost its record). The scheduler now waits for the job, renewing the
    lease meanwhile (here a 3 s lease outlived by the job: a standby's take-over is refused), then releases it."""
    import os
    import signal
    import threading
    import time
    from dataclasses import replace

    from apscheduler.jobstores.memory import MemoryJobStore

    from sipas import scheduler as scheduler_module
    from sipas.scheduler import SchedulerAlreadyRunning

    short_lease = replace(settings, env={**settings.env, "SIPAS_SCHEDULER_LEASE_SECONDS": "3"})
    outcome: list[str] = []
    finished = threading.Event()

    def take_over() -> None:
        try:
            acquire_lock(database, "standby:2", now=datetime.now(UTC), seconds=3)
            outcome.append("taken over")
        except SchedulerAlreadyRunning:
            pass

    @fenced("test.slow_job")
    def slow_job() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # systemctl restart sipas-scheduler, mid-job
            time.sleep(3.5)  # still working (an SMS batch, a backup) past the lease's 3 s
            standby = threading.Thread(target=take_over)  # a standby scheduler's start, outside the job
            standby.start()
            standby.join()
            _write_audit(database, "job.done")
            outcome.append("committed")
        except LeaseLost as exc:
            outcome.append(f"LeaseLost: {exc}")
        finally:
            finished.set()

    def build_with_the_slow_job(_settings):  # type: ignore[no-untyped-def]
        """The scheduler with this job alone (the real jobs would keep their databases between tests)."""
        built = scheduler_module.Scheduler(jobstores={"memory": MemoryJobStore()}, timezone=UTC)
        built.add_job(slow_job, "date", run_date=datetime.now(UTC) + timedelta(milliseconds=300), id="test.slow_job",
                      jobstore="memory")
        return built

    monkeypatch.setattr(scheduler_module, "build_scheduler", build_with_the_slow_job)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        scheduler_module.run(short_lease)  # returns after the SIGTERM, once the job is done
    finally:
        signal.signal(signal.SIGTERM, previous)
    returned_under_the_job = not finished.is_set()
    assert finished.wait(10)
    assert outcome == ["committed"] and not returned_under_the_job, outcome
    with database.session() as session:
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "job.done")).all() == ["job.done"]
        assert session.get(SchedulerLock, "scheduler").holder == ""  # released after the job, not under it


_SIGTERM_INSIDE_SUBMIT = '''
import concurrent.futures, os, signal
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from sipas import scheduler
from sipas.settings import Settings


class SignallingPool(concurrent.futures.ThreadPoolExecutor):
    """SIGTERM arrives while the loop submits a job, inside submit's lock (as systemctl's may)."""

    def _adjust_thread_count(self):
        if not getattr(self, "signalled", False):
            self.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(1000))  # the handler runs at a bytecode boundary: here, the lock held
        super()._adjust_thread_count()


class Executor(BasePoolExecutor):
    def __init__(self):
        super().__init__(SignallingPool(2))


def build(_settings):
    built = scheduler.Scheduler(jobstores={"memory": MemoryJobStore()}, executors={"default": Executor()},
                                timezone=UTC)
    built.add_job(print, "date", run_date=datetime.now(UTC) + timedelta(milliseconds=200), jobstore="memory")
    return built


scheduler.build_scheduler = build
scheduler.run(Settings.from_env())
print("stopped")
'''


def test_a_sigterm_while_the_loop_submits_a_job_stops_the_scheduler(settings, database):
    """The SIGTERM handler stopped the scheduler from the main thread, which may be inside the thread pool's submit
    holding its lock: shutdown waited for that lock forever (a `systemctl stop` ended by SIGKILL, the lease kept;
    tests/faults/test_scheduler_takeover.py left such a process behind now and then). The loop now stops itself at
    a safe point."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SIPAS_DATABASE_URL": settings.database_url, "SIPAS_INSTANCE_DIR": str(settings.instance_dir),
           "SIPAS_SECRET_KEY": "sigterm-test"}
    process = subprocess.Popen([sys.executable, "-c", _SIGTERM_INSIDE_SUBMIT], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the scheduler did not stop after SIGTERM") from None
    assert process.returncode == 0 and b"stopped" in output, output.decode()
    with database.read_sessionmaker() as session:
        assert session.get(SchedulerLock, "scheduler").holder == ""


class _SchedulerWhoseLeaseIsTaken:
    """APScheduler's loop while another scheduler takes the lease over: the next heartbeat finds it gone (the real
    ``heartbeat_job``, which tells ``run`` through ``on_lost``)."""

    running = False

    def __init__(self, database: Database) -> None:
        self.database = database

    def add_job(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def get_jobs(self) -> list[object]:
        return []

    def start(self) -> None:
        from sipas.scheduler import heartbeat_job

        _take_over(self.database)
        heartbeat_job()


def test_sipas_scheduler_says_in_vietnamese_that_it_lost_the_lease_and_to_whom(run_cli, database, monkeypatch):
    """`sipas scheduler` ended with "Lỗi: Tiến trình lập lịch đã mất khóa, dừng lại: lost the scheduler lock (vm:14802,
    token 1) after 2 s; another scheduler runs the jobs" (reproduced by taking the lock row over under a running
    scheduler): the log lines stay English, the operator's last line is Vietnamese, names the new holder and says
    what to check; exit code 1 (systemd's Restart=on-failure restarts it as a standby), no traceback."""
    import re
    import signal

    from sipas import scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "build_scheduler", lambda _settings: _SchedulerWhoseLeaseIsTaken(database))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        result = run_cli("--quiet", "scheduler", catch_exceptions=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    holder = re.escape(scheduler_module.socket.gethostname())
    assert re.fullmatch(
        rf"Lỗi: Tiến trình lập lịch đã mất khóa, dừng lại: khóa lập lịch của tiến trình này \({holder}:\d+, lượt giữ "
        r"khóa số \d+\) đã sang other:2 sau \d+ giây chạy\. Một tiến trình lập lịch khác đang chạy các tác vụ \(thường "
        r"do tiến trình này bị tạm dừng lâu hơn SIPAS_SCHEDULER_LEASE_SECONDS = 90 giây\); dưới systemd, tiến trình "
        r"này được khởi động lại và chờ ở chế độ dự phòng\. Kiểm tra: sipas doctor \(mỗi cơ sở dữ liệu chỉ một tiến "
        r"trình lập lịch\)\.\n", result.output), result.output


def test_a_lost_lease_is_said_in_vietnamese_for_the_operator_and_in_english_for_the_log(database):
    from sipas.scheduler import heartbeat

    lease = acquire_lock(database, "host:1", now=datetime.now(UTC))
    _take_over(database)
    with pytest.raises(LeaseLost) as lost:
        heartbeat(database, lease)
    assert str(lost.value) == f"lost the scheduler lock (host:1, token {lease.token})"
    assert lost.value.message_vi == (f"khóa lập lịch không còn là của tiến trình này (host:1, lượt giữ khóa số "
                                     f"{lease.token})")
    with pytest.raises(LeaseLost) as refused:
        fenced("test.job")(lambda: None)()
    assert refused.value.message_vi == "tác vụ test.job bị từ chối: tiến trình này không giữ khóa lập lịch"
