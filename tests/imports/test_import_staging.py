"""All or nothing across batches (issue "Trust", point 7): an import stages its rows in short transactions, then
one transaction swaps them into the real tables. A failure or a kill between batches, a failure inside the
swap, or a conflict found at the swap leaves the dossiers and ratings exactly as they were; importing again
works; staged rows of runs that died are deleted by the next import.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text

import sipas.imports.dossier_import as dossier_module
import sipas.imports.response_import as response_module
from sipas.imports import import_dossiers, import_responses
from sipas.imports.staging import stage
from sipas.models import Dossier, DossierStaging, ImportJob, ImportStaging, Response, ResponseChannel
from sipas.responses import ResponseInput, record_response
from sipas.storage import get_database
from tests.factories import SECRET, TZ, answers_for, create_dossier, create_response, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, NOW, csv_bytes, dossier_row

RESPONSE_HEADER = ["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm", "q1", "q2", "q3", "q4", "Ý kiến"]
GOOD = ["Rất hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản"]


class Killed(Exception):
    """Stands for the worker dying at that point."""


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh snapshot
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _dossier_file(rows: int, **changes: object) -> bytes:
    return csv_bytes([DOSSIER_HEADER, *[dossier_row(f"H-{n:06d}", **changes) for n in range(rows)]])  # type: ignore[arg-type]


def _state(session, unit) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    session.rollback()
    return list(session.execute(select(Dossier.code, Dossier.procedure, Dossier.returned_at, Dossier.updated_at)
                                .where(Dossier.unit_id == unit.id).order_by(Dossier.code)))


def _import(session, unit, data: bytes, **options):  # type: ignore[no-untyped-def]
    options.setdefault("now", NOW)
    return import_dossiers(session, unit, data, "lon.csv", tz=TZ, secret=SECRET, actor="test", **options)


def test_a_failure_between_batches_changes_nothing_and_the_next_run_completes(session) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-000003", procedure="Thủ tục cũ")
    session.commit()
    before = _state(session, unit)

    def die_after_two_batches(done: int, _total: int) -> None:
        if done >= 1000:
            raise Killed

    with pytest.raises(Killed):
        _import(session, unit, _dossier_file(1200), progress=die_after_two_batches)
    assert _state(session, unit) == before
    assert _count(session, DossierStaging) == 1000  # staged, never visible
    later = NOW + timedelta(hours=2)  # the dead run's rows are now stale
    report = _import(session, unit, _dossier_file(1200), now=later)
    assert report.written and (report.created, report.updated) == (1199, 1)
    assert _count(session, Dossier) == 1200 and _count(session, DossierStaging) == 0


def test_a_failure_at_the_swap_changes_nothing(session, monkeypatch) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-000003", procedure="Thủ tục cũ")
    session.commit()
    before = _state(session, unit)
    real = dossier_module.swap

    def die_at_the_end_of_the_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)  # every row written in the swap transaction, not yet committed
        raise Killed

    monkeypatch.setattr(dossier_module, "swap", die_at_the_end_of_the_swap)
    with pytest.raises(Killed):
        _import(session, unit, _dossier_file(2500))
    assert _state(session, unit) == before
    monkeypatch.undo()
    report = _import(session, unit, _dossier_file(2500), now=NOW + timedelta(hours=2))
    assert report.written and report.created == 2499 and _count(session, DossierStaging) == 0


def test_a_dossier_rated_while_the_file_was_staged_is_a_conflict_and_nothing_is_written(app, session,
                                                                                        catalogue) -> None:
    unit = create_unit(session)
    rated = create_dossier(session, unit, code="H-000700", received_at=local(2026, 1, 5),
                           returned_at=local(2026, 1, 7, 15))
    session.commit()
    before = _state(session, unit)
    database = get_database(app)

    def rate_it_meanwhile(done: int, total: int) -> None:
        if done == 1000 and not total:  # its batch was checked and staged; the swap has not begun
            with database.session() as other:
                create_response(other, catalogue, other.merge(unit), dossier=other.merge(rated),
                                instrument="quay4", now=NOW)

    report = _import(session, unit, _dossier_file(1200, returned=""), progress=rate_it_meanwhile)
    assert report.file_error_code == "import_conflict" and not report.written
    assert "thao tác khác" in (report.file_error or "")
    assert _state(session, unit) == before and _count(session, DossierStaging) == 0
    assert _count(session, Response) == 1


def test_a_dossier_returned_and_rated_while_the_file_was_staged_is_a_conflict(app, session, catalogue) -> None:
    """The file was exported before the result was handed back: the dossier is returned and rated while the file is
    staged. The swap wrote the staged row over it (no return date) without a conflict: a rated dossier that was
    never returned."""
    from sipas.dossiers import mark_returned

    unit = create_unit(session)
    pending = create_dossier(session, unit, code="H-000700", received_at=local(2026, 1, 5), returned=False,
                             due_at=local(2026, 1, 8, 0))
    session.commit()
    database = get_database(app)

    def return_and_rate_meanwhile(done: int, total: int) -> None:
        if done == 1000 and not total:  # its batch was checked and staged; the swap has not begun
            with database.session() as other:
                dossier = other.merge(pending)
                mark_returned(other, dossier, returned_at=local(2026, 1, 7, 15), tz=TZ, now=NOW, secret=SECRET,
                              actor="test")
                other.flush()
                create_response(other, catalogue, other.merge(unit), dossier=dossier, instrument="quay4", now=NOW)

    report = _import(session, unit, _dossier_file(1200, returned=""), progress=return_and_rate_meanwhile)
    assert report.file_error_code == "import_conflict" and not report.written
    session.expire_all()
    assert session.get(Dossier, pending.id).returned_at is not None and _count(session, Response) == 1


def test_a_dossier_rated_during_the_swap_is_a_conflict(app, session, catalogue) -> None:
    """PostgreSQL: a rating being written when the swap checks for rated dossiers (its transaction not committed)
    is not seen; the swap's update then waited for the dossier row the rating held and cleared the return date of
    a dossier rated by then. The check now reads after the update."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks of PostgreSQL (on SQLite the swap holds the write lock)")
    unit = create_unit(session)
    rated = create_dossier(session, unit, code="H-000700", received_at=local(2026, 1, 5),
                           returned_at=local(2026, 1, 7, 15))
    session.commit()
    database = get_database(app)

    def commit_once_the_swap_waits(rating) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 10
        with database.read_sessionmaker() as probe:
            while time.monotonic() < deadline and not probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar():
                probe.rollback()  # the statistics are a snapshot per transaction
                time.sleep(0.05)
        rating.commit()
        rating.close()

    def rate_it_as_the_swap_begins(done: int, total: int) -> None:
        if done == 1000 and not total:  # its batch was checked and staged; the swap has not begun
            rating = database.sessionmaker()
            data = ResponseInput(instrument="hue12", channel=ResponseChannel.API, answers=answers_for(catalogue),
                                 dossier_code=rated.code, submitted_at=local(2026, 1, 8, 10))
            record_response(rating, catalogue, rating.merge(unit, load=False), data, now=NOW, tz=TZ, actor="api")
            threading.Thread(target=commit_once_the_swap_waits, args=(rating,)).start()

    report = _import(session, unit, _dossier_file(1200, returned=""), progress=rate_it_as_the_swap_begins)
    assert report.file_error_code == "import_conflict" and not report.written
    session.rollback()
    assert session.get(Dossier, rated.id).returned_at is not None and _count(session, Response) == 1


@pytest.mark.slow
def test_a_killed_import_process_leaves_nothing_and_the_next_run_completes(session, database_url, tmp_path) -> None:
    unit = create_unit(session, code="PHKILL")
    session.commit()
    path = tmp_path / "hoso.csv"
    path.write_bytes(_dossier_file(20_000))
    env = {**os.environ, "SIPAS_DATABASE_URL": database_url, "SIPAS_SECRET_KEY": "test-secret-key",
           "SIPAS_INSTANCE_DIR": str(tmp_path / "instance")}
    process = subprocess.Popen([sys.executable, "-m", "sipas.cli", "import-dossiers", str(path), "--unit", "PHKILL"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while _count(session, DossierStaging) < 2000:  # several batches staged, the swap not begun
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "nothing was staged"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert _count(session, Dossier) == 0 and _count(session, DossierStaging) >= 2000
    report = _import(session, unit, path.read_bytes(), now=datetime.now(UTC) + timedelta(hours=2))
    assert report.written and report.created == 20_000
    assert _count(session, Dossier) == 20_000 and _count(session, DossierStaging) == 0


def test_staged_rows_of_dead_jobs_are_deleted_and_those_of_a_live_job_kept(session) -> None:
    unit = create_unit(session)
    session.commit()

    def job(status: str, heartbeat_age: timedelta) -> ImportJob:
        created = ImportJob(unit_id=unit.id, kind="dossiers", filename="x.csv", upload_path="/nowhere", actor="test",
                            skip_invalid=False, status=status, heartbeat_at=NOW - heartbeat_age)
        session.add(created)
        session.flush()
        return created

    live = job("running", timedelta(seconds=10))
    failed, done = job("failed", timedelta(seconds=10)), job("done", timedelta(seconds=10))
    silent = job("running", timedelta(minutes=10))  # its worker was killed: no heartbeat any more
    payload = {"code": "X"}
    for owner in (live, failed, done, silent):
        stage(session, f"run{owner.id}", unit.id, owner.id, [(2, payload)], now=NOW)
    stage(session, "orphan", unit.id, None, [(2, payload)], now=NOW - timedelta(hours=2))  # a CLI run that died
    stage(session, "recent", unit.id, None, [(2, payload)], now=NOW - timedelta(minutes=1))  # a CLI run going on
    session.commit()
    assert _import(session, unit, _dossier_file(3)).created == 3
    session.rollback()
    assert set(session.scalars(select(ImportStaging.token))) == {f"run{live.id}", "recent"}


def _ballots(codes: list[str | None]) -> bytes:
    return csv_bytes([RESPONSE_HEADER, *[[code, "quay4", "giấy", "10/01/2026 09:00", *GOOD, None] for code in codes]])


def test_a_response_import_that_dies_at_any_point_records_no_rating(session, catalogue, monkeypatch) -> None:
    unit = create_unit(session)
    session.commit()
    data = _ballots([None] * 1200)

    def run(**options):  # type: ignore[no-untyped-def]
        return import_responses(session, catalogue, unit, data, "phieu.csv", tz=TZ, actor="test", **options)

    def die_after_two_batches(done: int, _total: int) -> None:
        if done >= 1000:
            raise Killed

    with pytest.raises(Killed):
        run(now=NOW, progress=die_after_two_batches)
    assert _count(session, Response) == 0 and _count(session, ImportStaging) == 1000
    real = response_module._record
    recorded: list[int] = []

    def die_in_the_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        recorded.append(args[3])
        if len(recorded) == 1100:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(response_module, "_record", die_in_the_swap)
    with pytest.raises(Killed):
        run(now=NOW)
    assert _count(session, Response) == 0
    monkeypatch.undo()
    report = run(now=NOW + timedelta(hours=2))
    assert report.written and report.created == 1200
    assert _count(session, Response) == 1200 and _count(session, ImportStaging) == 0


def test_a_run_whose_staged_rows_were_deleted_as_stale_writes_nothing(session) -> None:
    unit = create_unit(session)
    session.commit()

    def another_import_cleans_up(done: int, total: int) -> None:
        if done == 500 and not total:  # as if this run had outlived ORPHAN_AFTER and another import ran
            session.execute(delete(DossierStaging))
            session.commit()

    report = _import(session, unit, _dossier_file(1200), progress=another_import_cleans_up)
    assert report.file_error_code == "import_conflict" and not report.written
    assert _count(session, Dossier) == 0 and _count(session, DossierStaging) == 0


def test_a_batch_is_staged_in_one_statement_whatever_cells_are_empty(app, session) -> None:
    """Rows with and without a phone, a return date or a consent still go in as one batch: the ORM's bulk insert
    leaves out the keys whose value is empty and put such mixed rows in one ``INSERT`` each (a 20,000-row file
    spent a fifth of its import time on them)."""
    from sqlalchemy import event

    unit = create_unit(session)
    session.commit()
    rows = [dossier_row(f"T-{n:03d}", phone="" if n % 3 == 0 else f"09123{n:05d}", consent="có" if n % 2 else "",
                        returned="" if n % 5 == 0 else "07/01/2026 15:00") for n in range(60)]
    staged: list[bool] = []

    def before(_conn, _cursor, statement, _parameters, _context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO DOSSIER_STAGING"):
            staged.append(executemany)

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        report = import_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, *rows]), "hoso.csv", tz=TZ, now=NOW,
                                 secret=SECRET, actor="test", batch_size=25)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert report.ok and report.written and report.created == 60
    assert staged == [True, True, True]  # 25 + 25 + 10 rows
    assert _count(session, Dossier) == 60
