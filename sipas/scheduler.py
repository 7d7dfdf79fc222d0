"""The one scheduler process: APScheduler 3.x with its job store in the database, fenced by a lease.

APScheduler 3 has no locking across processes, so the process holds the ``scheduler_lock`` row as a
lease: it expires ``SIPAS_SCHEDULER_LEASE_SECONDS`` after its last renewal (a heartbeat renews it every
third of that), and every take-over adds one to its fencing token. A second process refuses to start
while the lease is unexpired and its holder alive.

A process that was paused (SIGSTOP, a frozen VM, a long GC) may wake after another one took over. So a
job runs only through :func:`fenced`: it renews the lease, checking the holder and token, in the same
transaction that logs the run, and every commit the job makes checks the lease again inside that
commit's transaction (a ``before_commit`` hook). A process that finds its lease taken stops at once and
exits non-zero (systemd restarts it; it then waits as a standby, refused while the other one holds).

SIGTERM (``systemctl stop``/``restart``) stops the loop at a safe point (:class:`Scheduler`), waits for the
running jobs while renewing the lease (:func:`finish_jobs`), and only then releases it: released earlier, a
running job's commits would fail.

Channels add jobs through ``<channel>.jobs.register(scheduler, settings)``; each job is a module-level
function wrapped by :func:`fenced` with a stable id, ``replace_existing=True``, ``coalesce=True`` and
``max_instances=1``. A job whose run missed while the scheduler was down should be made at start passes
:func:`missed_run` along: registering it again would otherwise schedule it afresh from now.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.util import utc_timestamp_to_datetime
from sqlalchemy import delete, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from sipas.clock import utcnow
from sipas.models import SchedulerJobRun, SchedulerLock
from sipas.plugins import channel_modules
from sipas.settings import Settings, env_int
from sipas.settings_check import check_every_setting
from sipas.storage import Database

log = logging.getLogger(__name__)
LOCK_NAME = "scheduler"
CORE_JOB_MODULES = ("sipas.backup_schedule", "sipas.throttle_purge")  # each has register(scheduler, settings)
DEFAULT_LEASE_SECONDS = 90
JOB_RUNS_KEPT = timedelta(days=14)


class SchedulerAlreadyRunning(RuntimeError):
    pass


class LeaseLost(RuntimeError):
    """This process no longer holds the scheduler lease: it must run no job and stop.

    ``str()`` is the log line's English ("lost the scheduler lock …", which alerts may search for); ``message_vi``
    is what `sipas scheduler` prints for the operator as its last line."""

    def __init__(self, message: str, *, message_vi: str) -> None:
        super().__init__(message)
        self.message_vi = message_vi


def lease_seconds(settings: Settings) -> int:
    return env_int(settings.env, "SIPAS_SCHEDULER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, minimum=3)


def beat_seconds(lease: int) -> int:
    """How often the running scheduler renews its lease (a third of it): the heartbeat's promised interval."""
    return max(1, lease // 3)


@dataclass
class Lease:
    """What this process holds: the lock row's holder and fencing token, and for how long a renewal lasts."""

    holder: str
    token: int
    seconds: int

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.seconds)


def _holder_is_dead(holder: str) -> bool:
    """A holder on this host whose process no longer exists (crashed, killed -9) can be replaced at once."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lock(database: Database, holder: str, *, now: datetime,
                 seconds: int = DEFAULT_LEASE_SECONDS) -> Lease:
    """Take the lease (a new fencing token), or raise if another live process holds an unexpired one."""
    with database.session() as session:
        row = session.get(SchedulerLock, LOCK_NAME)
        if row is None:
            session.add(SchedulerLock(name=LOCK_NAME, holder=holder, heartbeat_at=now, token=1,
                                      expires_at=now + timedelta(seconds=seconds)))
            try:
                session.flush()
            except IntegrityError as exc:
                raise SchedulerAlreadyRunning("một tiến trình lập lịch khác vừa giữ khóa cùng lúc") from exc
            return Lease(holder, 1, seconds)
        if row.holder and row.holder != holder and now < row.expires_at and not _holder_is_dead(row.holder):
            expires = row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC).astimezone(UTC)
            raise SchedulerAlreadyRunning(f"tiến trình {row.holder} giữ khóa đến {expires:%Y-%m-%d %H:%M:%S} UTC")
        token = row.token + 1
        taken = session.execute(update(SchedulerLock)
                                .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.token == row.token)
                                .values(holder=holder, token=token, heartbeat_at=now,
                                        expires_at=now + timedelta(seconds=seconds)))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise SchedulerAlreadyRunning("một tiến trình lập lịch khác vừa giữ khóa cùng lúc")
        if row.holder and row.holder != holder:
            log.warning("took the scheduler lock over from %s (lease until %s), token %d",
                        row.holder, row.expires_at, token)
        return Lease(holder, token, seconds)


def renew(session: Session, lease: Lease, *, now: datetime) -> None:
    """Extend the lease inside ``session``'s transaction if, and only if, this holder and token still own it.

    On PostgreSQL the UPDATE keeps the row locked until the transaction ends, so a take-over waits for
    it; on SQLite write transactions already hold the database's write lock.
    """
    result = session.execute(update(SchedulerLock)
                             .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == lease.holder,
                                    SchedulerLock.token == lease.token)
                             .values(heartbeat_at=now, expires_at=now + lease.duration))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"lost the scheduler lock ({lease.holder}, token {lease.token})",
                        message_vi=f"khóa lập lịch không còn là của tiến trình này ({_held(lease)})")


def _held(lease: Lease) -> str:
    return f"{lease.holder}, lượt giữ khóa số {lease.token}"


def heartbeat(database: Database, lease: Lease) -> None:
    with database.session() as session:
        now = utcnow()
        renew(session, lease, now=now)
        session.execute(delete(SchedulerJobRun).where(SchedulerJobRun.started_at < now - JOB_RUNS_KEPT))


def _taken_over(database: Database, lease: Lease) -> LeaseLost | None:
    """``LeaseLost`` if another holder or token owns the lock row now; None if it is still ours or cannot be read."""
    try:
        with database.read_sessionmaker() as session:
            row = session.get(SchedulerLock, LOCK_NAME)
    except DBAPIError:
        return None
    if row is not None and (row.holder, row.token) == (lease.holder, lease.token):
        return None
    holder = row.holder if row is not None else ""
    return LeaseLost(f"lost the scheduler lock ({lease.holder}, token {lease.token}) to {holder or 'nobody'}",
                     message_vi=f"khóa lập lịch của tiến trình này ({_held(lease)}) đã "
                                + (f"sang {holder}" if holder else "được nhả, không tiến trình nào giữ"))


def release_lock(database: Database, lease: Lease) -> None:
    """Give the lease up (the row stays so the next token is still larger)."""
    with database.session() as session:
        session.execute(update(SchedulerLock)
                        .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == lease.holder,
                               SchedulerLock.token == lease.token)
                        .values(holder="", expires_at=utcnow()))


def lock_holder(database: Database) -> str | None:
    with database.session() as session:
        row = session.get(SchedulerLock, LOCK_NAME)
        return row.holder if row is not None and row.holder and row.expires_at > utcnow() else None


# --- fencing -------------------------------------------------------------------------------------------

class _Fence:
    """The lease this process runs jobs under (set by :func:`run`, or by tests)."""

    def __init__(self) -> None:
        self.database: Database | None = None
        self.lease: Lease | None = None
        self.on_lost: Callable[[LeaseLost], None] | None = None
        self.running_job = threading.local()  # set while a fenced job runs in this thread
        self.jobs_running = 0  # fenced jobs running in this process (any thread), under ``jobs_changed``
        self.jobs_changed = threading.Condition()

    def job_started(self) -> tuple[Database, Lease] | None:
        """The lease a job starting now runs under (counted as running), or None if there is none."""
        with self.jobs_changed:
            if self.database is None or self.lease is None:
                return None
            self.jobs_running += 1
            return self.database, self.lease

    def job_ended(self) -> None:
        with self.jobs_changed:
            self.jobs_running -= 1
            self.jobs_changed.notify_all()


_fence = _Fence()


def activate(database: Database, lease: Lease, on_lost: Callable[[LeaseLost], None] | None = None) -> None:
    """Run the jobs of this process under ``lease``; ``on_lost`` is called when a job finds it taken."""
    if not event.contains(Session, "before_commit", _check_fence_before_commit):
        event.listen(Session, "before_commit", _check_fence_before_commit)
    _fence.database, _fence.lease, _fence.on_lost = database, lease, on_lost


def deactivate() -> None:
    with _fence.jobs_changed:
        _fence.database = _fence.lease = _fence.on_lost = None


def finish_jobs(database: Database, lease: Lease, *, beat: float) -> LeaseLost | None:
    """Wait until no fenced job runs, renewing the lease every ``beat`` seconds meanwhile, then deactivate.

    Called once the scheduler stopped submitting jobs (SIGTERM: ``systemctl stop``/``restart``): giving the lease
    up under a running job would fail its later commits (``LeaseLost``) though no other scheduler took over, and
    the lease could expire during a long job (a backup) and be taken over. Deactivating under the same lock as a
    job's start, no job starts after the wait. Returns the ``LeaseLost`` a renewal met, if any.
    """
    while True:
        with _fence.jobs_changed:
            if not _fence.jobs_running:
                _fence.database = _fence.lease = _fence.on_lost = None
                return None
            if _fence.jobs_changed.wait(timeout=beat):
                continue
            running = _fence.jobs_running
        log.info("stopping: waiting for %d running job(s) before giving up the scheduler lease", running)
        try:
            heartbeat(database, lease)
        except LeaseLost as exc:
            log.error("%s", exc)
            deactivate()
            return exc
        except DBAPIError as exc:  # the job's own commits renew the lease once the database answers again
            log.warning("stopping: the lease could not be renewed while a job runs: %s", exc)


def _check_fence_before_commit(session: Session) -> None:
    """Every commit a fenced job makes first renews the lease in the same transaction, or fails."""
    lease = getattr(_fence.running_job, "lease", None)
    if lease is not None and not session.info.get("sipas_fence_checked"):
        renew(session, lease, now=utcnow())


def _finish(database: Database, lease: Lease, run_id: int, outcome: str) -> None:
    with database.session() as session:
        session.info["sipas_fence_checked"] = True
        renew(session, lease, now=utcnow())
        session.execute(update(SchedulerJobRun).where(SchedulerJobRun.id == run_id)
                        .values(finished_at=utcnow(), outcome=outcome))


F = TypeVar("F", bound=Callable[..., Any])


def fenced(job_id: str) -> Callable[[F], F]:
    """Run the decorated job only while this process holds the scheduler lease.

    The run is logged in ``scheduler_job_run`` in the transaction that renews the lease; commits made
    by the job renew it again inside their own transaction. A job that finds the lease taken does
    nothing (or has its commit rolled back) and tells the scheduler to stop.
    """
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            held = _fence.job_started()
            if held is None:
                raise LeaseLost(f"job {job_id} refused: this process holds no scheduler lease",
                                message_vi=f"tác vụ {job_id} bị từ chối: tiến trình này không giữ khóa lập lịch")
            database, lease = held
            try:
                return _run_fenced(job_id, database, lease, function, *args, **kwargs)
            finally:
                _fence.job_ended()

        return wrapper  # type: ignore[return-value]

    return decorate


def _run_fenced(job_id: str, database: Database, lease: Lease, function: Callable[..., Any], *args: Any,
                **kwargs: Any) -> Any:
    """The body of a :func:`fenced` job: log the run under the lease, run it, log its outcome."""
    try:
        with database.session() as session:
            session.info["sipas_fence_checked"] = True
            now = utcnow()
            renew(session, lease, now=now)
            run = SchedulerJobRun(job_id=job_id, holder=lease.holder, token=lease.token, started_at=now)
            session.add(run)
            session.flush()
            run_id = run.id
        _fence.running_job.lease = lease
        try:
            result = function(*args, **kwargs)
        except LeaseLost:
            raise
        except Exception:
            _finish(database, lease, run_id, "failed")
            raise
        finally:
            _fence.running_job.lease = None
        _finish(database, lease, run_id, "ok")
        return result
    except LeaseLost as exc:
        log.error("job %s refused or rolled back: %s", job_id, exc)
        if _fence.on_lost is not None:
            _fence.on_lost(exc)
        raise


# --- the process ----------------------------------------------------------------------------------------

_stored_runs: dict[str, datetime] = {}  # while build_scheduler registers the jobs: the runs the job store held


def _stored_run_times(store: SQLAlchemyJobStore) -> dict[str, datetime]:
    """Each stored job's next run time, read before the jobs are registered again (which overwrites them)."""
    store.jobs_t.create(store.engine, checkfirst=True)  # as the store's own start() does
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(select(store.jobs_t.c.id, store.jobs_t.c.next_run_time)).all()
    finally:
        store.engine.dispose()  # no connection left open by a scheduler that is never started
    return {job_id: utc_timestamp_to_datetime(at) for job_id, at in rows if at is not None}


def missed_run(job_id: str) -> dict[str, datetime]:
    """``{"next_run_time": <stored>}`` if the job store held a run of ``job_id`` that fell due before now, else {}.

    Pass it to ``add_job``: APScheduler's ``add_job(replace_existing=True)`` computes the next run from now
    and overwrites the stored one at start, so a run missed while the scheduler was down would never be made
    and the job's ``misfire_grace_time`` never apply. With the stored time kept, the grace decides: a run
    missed by less is made at once, one missed by more is skipped. A stored run still to come is computed
    afresh (a changed setting, such as the backup hour, applies).
    """
    stored = _stored_runs.get(job_id)
    return {"next_run_time": stored} if stored is not None and stored < utcnow() else {}


class Scheduler(BlockingScheduler):
    """APScheduler's blocking scheduler, stopped by its own loop at a safe point (:meth:`request_stop`).

    Stopping it from elsewhere broke: from the SIGTERM handler, which runs in the loop's (main) thread between two
    bytecodes, ``shutdown`` could wait forever for the thread pool's lock the interrupted ``submit`` held (a
    ``systemctl stop`` ended by SIGKILL); from another thread, the loop could meet the stopped state half-way
    through its jobs and fail (``JobLookupError``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_requested = threading.Event()

    def request_stop(self) -> None:
        """Ask the loop to stop (from a signal handler or any thread): it submits no job after this."""
        log.info("stopping the scheduler; a running job finishes first")
        self.stop_requested.set()

    def start(self, *args: Any, **kwargs: Any) -> None:
        threading.Thread(target=self._wake_when_stop_requested, daemon=True).start()
        super().start(*args, **kwargs)

    def _wake_when_stop_requested(self) -> None:
        self.stop_requested.wait()
        while self.running:  # again until stopped: a wake-up between the loop's wait and its clear is lost
            self.wakeup()
            time.sleep(0.2)

    def _process_jobs(self) -> float | None:
        if self.stop_requested.is_set():
            with contextlib.suppress(SchedulerNotRunningError):
                self.shutdown(wait=False)  # here the loop holds no lock; run() waits for the running jobs
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def build_scheduler(settings: Settings) -> Scheduler:
    store = SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs")
    scheduler = Scheduler(
        jobstores={
            "default": store,
            "memory": MemoryJobStore(),  # the lease heartbeat belongs to this process only
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=settings.tz,
    )
    _stored_runs.update(_stored_run_times(store))
    try:
        for name in CORE_JOB_MODULES:  # by name, like the channels' jobs: they import this module (fenced)
            importlib.import_module(name).register(scheduler, settings)
        for module in channel_modules("jobs"):
            module.register(scheduler, settings)
    finally:
        _stored_runs.clear()
    return scheduler


def heartbeat_job() -> None:
    """Module-level so APScheduler can reference it; a lost lease stops the process."""
    database, lease = _fence.database, _fence.lease
    if database is None or lease is None:
        return
    try:
        heartbeat(database, lease)
    except LeaseLost as exc:
        log.error("%s", exc)
        if _fence.on_lost is not None:
            _fence.on_lost(exc)


def _on_sigterm(scheduler: Scheduler) -> None:
    """SIGTERM (``systemctl stop``/``restart``): stop once; before the loop started, exit at once. Only an Event's
    ``set``: no lock the interrupted main thread may hold."""
    if not scheduler.running:
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, lambda *_: log.warning("already stopping: waiting for the running job(s)"))
    scheduler.request_stop()


def bounded_transactions_url(database_url: str, seconds: int) -> str:
    """On PostgreSQL, a session of this process left idle inside a transaction for longer than the lease is
    ended by the server: a process paused mid-transaction then holds no row lock that would keep the next
    scheduler waiting, and its late commit fails. (SQLite has no such limit: see docs/reliability.md.)"""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    option = f"-c idle_in_transaction_session_timeout={seconds * 1000}"
    existing = url.query.get("options")
    options = f"{existing} {option}" if isinstance(existing, str) and existing else option
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def run(settings: Settings) -> None:
    """Hold the lease and run the jobs; raise :class:`LeaseLost` if another process took the lease over."""
    seconds = lease_seconds(settings)
    check_every_setting(settings)  # a wrong value stops the start here, before the lease is taken
    settings = replace(settings, database_url=bounded_transactions_url(settings.database_url, seconds))
    database = Database(settings)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    try:
        lease = acquire_lock(database, holder, now=utcnow(), seconds=seconds)
    except SchedulerAlreadyRunning:
        database.dispose()  # the refused start closes its connection (the test suite's filterwarnings sees a leak)
        raise
    lost: list[LeaseLost] = []
    scheduler = build_scheduler(settings)

    def on_lost(exc: LeaseLost) -> None:
        if not lost:
            lost.append(exc)
            if scheduler.running:  # not once stopped: a job that ends while run() waits for it
                with contextlib.suppress(SchedulerNotRunningError):
                    scheduler.pause()  # no further job is submitted while the loop winds down
                scheduler.request_stop()

    activate(database, lease, on_lost)
    beat = beat_seconds(seconds)
    scheduler.add_job(heartbeat_job, "interval", seconds=beat, id="sipas.heartbeat",
                      replace_existing=True, jobstore="memory")
    log.info("scheduler started as %s (token %d, lease %d s) with jobs: %s", holder, lease.token, seconds,
             [j.id for j in scheduler.get_jobs()])
    signal.signal(signal.SIGTERM, lambda *_: _on_sigterm(scheduler))
    started = time.monotonic()
    try:
        scheduler.start()
        if not lost and (taken := finish_jobs(database, lease, beat=beat)) is not None:
            lost.append(taken)
    except DBAPIError:
        # Woken from a pause on PostgreSQL, the job store's first query may meet the session the server ended
        # (``bounded_transactions_url``) before the heartbeat finds the lease gone: say which it was.
        taken = _taken_over(database, lease)
        if taken is None:
            raise
        lost.append(taken)
    finally:
        deactivate()
        if not lost:
            release_lock(database, lease)
        else:  # the heartbeat or a job knows the lease is gone; the row says to whom
            lost[0] = _taken_over(database, lease) or lost[0]
        database.dispose()
    if lost:
        ran = time.monotonic() - started
        raise LeaseLost(
            f"{lost[0]} after {ran:.0f} s; another scheduler runs the jobs",
            message_vi=f"{lost[0].message_vi} sau {ran:.0f} giây chạy. Một tiến trình lập lịch khác đang chạy các tác "
                       "vụ (thường do tiến trình này bị tạm dừng lâu hơn SIPAS_SCHEDULER_LEASE_SECONDS = "
                       f"{seconds} giây); dưới systemd, tiến trình này được khởi động lại và chờ ở chế độ dự phòng. "
                       "Kiểm tra: sipas doctor (mỗi cơ sở dữ liệu chỉ một tiến trình lập lịch).")
