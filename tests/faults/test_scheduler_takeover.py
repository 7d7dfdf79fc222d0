"""Two real ``sipas scheduler`` processes: the one paused past its lease runs no job after waking.

The first process is stopped with SIGSTOP until its lease expires, a second one takes over, then the first
gets SIGCONT. Observed through ``scheduler_job_run``: every run the first process starts after the take-over
would be a job run twice. Short lease and cycle settings keep it to a few seconds.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from sipas.models import SchedulerJobRun, SchedulerLock

pytestmark = pytest.mark.slow
LEASE_SECONDS = 3


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _runs(engine: Engine, pid: int) -> list[SchedulerJobRun]:
    with engine.connect() as conn:
        return list(conn.execute(select(SchedulerJobRun).where(SchedulerJobRun.holder.endswith(f":{pid}"))))


def _lock(engine: Engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(SchedulerLock)).one()


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "sipas.cli", "scheduler"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _pause(process: subprocess.Popen[bytes], url: str) -> None:
    """SIGSTOP the process; on SQLite, at a moment it holds no write lock.

    A process paused inside a SQLite write transaction keeps the one write lock: nobody can write, so nobody
    can take over either, until it resumes and commits (which the fence still allows, its lease being intact).
    On PostgreSQL the server ends a scheduler's session left idle in a transaction for longer than the lease,
    so the pause may fall anywhere.
    """
    if not url.startswith("sqlite"):
        process.send_signal(signal.SIGSTOP)
        return
    database = url.removeprefix("sqlite:///")
    for _attempt in range(50):
        process.send_signal(signal.SIGSTOP)
        probe = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            process.send_signal(signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()
    raise AssertionError("the scheduler always held the write lock")


def test_a_paused_scheduler_runs_no_job_after_another_took_over(server_database_url: str, tmp_path: Path) -> None:
    url = server_database_url
    env = {**os.environ, "SIPAS_DATABASE_URL": url, "SIPAS_INSTANCE_DIR": str(tmp_path),
           "SIPAS_SECRET_KEY": "takeover-test", "SIPAS_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
           "SIPAS_SMS_CYCLE_SECONDS": "1", "SIPAS_BACKUP_ENABLED": "false"}
    engine = create_engine(url)
    first = _start(env, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(lambda: len(_runs(engine, first.pid)) >= 2, 30, "the first scheduler's job runs")
        _pause(first, url)
        paused = time.monotonic()
        _wait_for(lambda: _lock(engine).expires_at < datetime.now(UTC), 3 * LEASE_SECONDS, "the lease to expire")
        second = _start(env, tmp_path / "second.log")
        _wait_for(lambda: len(_runs(engine, second.pid)) >= 1, 30, "the second scheduler's first job run")
        taken_over = _lock(engine)
        took_over_in = time.monotonic() - paused
        assert taken_over.holder.endswith(f":{second.pid}")
        first.send_signal(signal.SIGCONT)
        woken = time.monotonic()
        # Woken, the first process finds its lease taken and exits with an error instead of running jobs.
        assert first.wait(timeout=20) != 0
        print(f"\n{url.split(':')[0]}: lease {LEASE_SECONDS} s, second scheduler ran its first job "
              f"{took_over_in:.1f} s after the pause, the first exited {time.monotonic() - woken:.1f} s after SIGCONT")
        runs_after_wake = len(_runs(engine, second.pid))
        _wait_for(lambda: len(_runs(engine, second.pid)) > runs_after_wake + 1, 20, "the second to go on")
        first_runs = _runs(engine, first.pid)
        assert first_runs and all(run.token < taken_over.token for run in first_runs)
        assert all(run.started_at < taken_over.heartbeat_at for run in first_runs
                   if run.token < taken_over.token), "the first process ran a job after the take-over"
        assert b"lost the scheduler lock" in (tmp_path / "first.log").read_bytes()
        assert second.poll() is None and _lock(engine).holder.endswith(f":{second.pid}")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                process.wait(timeout=20)
        engine.dispose()
