"""A large dossier import does not lock API writers out (issue "Trust", point 7).

On SQLite one transaction holds the write lock of the whole database: an import writing every row in one
transaction kept rating submissions waiting past the busy timeout. The import stages its rows in one short
transaction per batch, then swaps them in with one short transaction, so a writer waits for one batch or the
swap at most. In-process writers share the GIL with the import: this is the quick check (10,000 rows, 2
writers); tests/faults/test_import_under_load.py runs 40,000 rows against the real server and 24 writers.
All-or-nothing holds: one bad row at the end of the file writes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from sipas.imports import import_dossiers
from sipas.models import Dossier, Response
from tests.factories import SECRET, TZ, create_dossier, create_key, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, NOW, csv_bytes, dossier_row, import_while_rating

ROWS = 10_000
BATCH = 500
RATED = 400


def _file(rows: int, *, bad_last: bool = False) -> bytes:
    lines = [dossier_row(f"H-{n:06d}") for n in range(rows)]
    if bad_last:
        lines[-1] = dossier_row("H-LOI", received="không phải ngày")
    return csv_bytes([DOSSIER_HEADER, *lines])


def _rated_dossiers(session, unit, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [create_dossier(session, unit, code=f"DG-{n}", received_at=local(2026, 1, 5),
                           returned_at=local(2026, 1, 7)).code for n in range(count)]


def test_a_large_import_stages_in_batches_and_api_writers_are_not_locked_out(app, session) -> None:
    unit = create_unit(session)
    key = create_key(session, unit)
    codes = _rated_dossiers(session, unit, RATED)
    session.commit()
    report, statuses, during = import_while_rating(app, unit, _file(ROWS), key, codes, batch_size=BATCH)
    assert report.ok and report.written and report.created == ROWS
    assert statuses and during > 0, "no rating was submitted while the import ran"
    assert set(statuses) == {201}, sorted(set(statuses))
    assert session.scalar(select(func.count()).select_from(Response)) == len(statuses)
    assert session.scalar(select(func.count()).select_from(Dossier)) == ROWS + RATED


def test_one_bad_row_at_the_end_of_a_batched_import_writes_nothing(app, session) -> None:
    unit = create_unit(session)
    key = create_key(session, unit)
    codes = _rated_dossiers(session, unit, 50)
    session.commit()
    report, statuses, _ = import_while_rating(app, unit, _file(3 * BATCH, bad_last=True), key, codes,
                                                batch_size=BATCH)
    assert not report.written and [e.row for e in report.errors] == [3 * BATCH + 1]
    assert set(statuses) <= {201}
    assert session.scalar(select(func.count()).select_from(Dossier)) == 50


def test_a_batched_import_reports_progress_per_batch(session) -> None:
    unit = create_unit(session)
    session.commit()
    seen: list[tuple[int, int]] = []
    report = import_dossiers(session, unit, _file(1200), "x.csv", tz=TZ, now=NOW, secret=SECRET, actor="test",
                             batch_size=BATCH, progress=lambda done, total: seen.append((done, total)))
    session.commit()
    assert report.created == 1200 and seen == [(500, 0), (1000, 0), (1200, 0), (1200, 1200)]
