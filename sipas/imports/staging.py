"""The staging table of imports: validated rows wait here, written in short batches, until one swap moves them.

A run (``token``) stages every row of a file in transactions of one batch each, so API writers wait for one
batch at most and nothing is visible in the real tables. The swap then applies the staged rows in ONE short
transaction and deletes them in that same transaction: a crash, a kill or a conflict at any moment leaves the
real tables exactly as they were. Rows left behind by a run that died are deleted by ``discard_stale``, which
every import calls before it starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from sipas.models import DossierStaging, ImportJob, ImportStaging

#: Staged rows per read while swapping (bounded memory whatever the size of the file).
SWAP_CHUNK = 1000
#: Staged rows of a run without a job (CLI) older than this belong to a dead process.
ORPHAN_AFTER = timedelta(hours=1)
#: A job whose heartbeat is older than this is dead (the same rule as the job page).
JOB_STALE_AFTER = timedelta(minutes=5)


#: The staging tables: rows of any kind (ratings), and planned dossier rows.
TABLES: tuple[type[ImportStaging] | type[DossierStaging], ...] = (ImportStaging, DossierStaging)


def new_token() -> str:
    return uuid.uuid4().hex


def stage(session: Session, token: str, unit_id: int, job_id: int | None, rows: list[tuple[int, dict[str, Any]]],
          *, now: datetime) -> None:
    """Insert one batch of (row number, payload) in one statement; the caller commits."""
    if rows:
        session.execute(insert(ImportStaging), [{"token": token, "job_id": job_id, "unit_id": unit_id, "row": row,
                                                 "payload": payload, "created_at": now} for row, payload in rows])


def stage_dossiers(session: Session, token: str, job_id: int | None, rows: list[dict[str, Any]]) -> None:
    """Insert one batch of planned dossier rows (see ``dossier_swap.plan_batch``); the caller commits.

    Into the table, not the mapped class: the ORM's bulk insert leaves out the keys whose value is ``None`` and
    groups rows by the keys that remain, so rows differing in which of their contact or date columns are empty
    went in one ``INSERT`` each (three statements for every four rows). Every planned row has the same keys."""
    if rows:
        session.execute(insert(DossierStaging.__table__), [{"token": token, "job_id": job_id, **row} for row in rows])


def staged(session: Session, token: str, chunk: int = SWAP_CHUNK) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The staged rows of a run in staging order, ``chunk`` at a time (keyset pages: memory stays flat)."""
    last = 0
    while True:
        page = session.execute(select(ImportStaging.id, ImportStaging.row, ImportStaging.payload)
                               .where(ImportStaging.token == token, ImportStaging.id > last)
                               .order_by(ImportStaging.id).limit(chunk)).all()
        if not page:
            return
        last = page[-1].id
        yield [(row, payload) for _, row, payload in page]


def count(session: Session, model: type[ImportStaging] | type[DossierStaging], token: str) -> int:
    """Rows of run ``token`` still staged: the swap checks that none went missing (a run that outlived
    ``ORPHAN_AFTER`` may have had its rows deleted as stale by another import)."""
    return int(session.scalar(select(func.count()).select_from(model).where(model.token == token)) or 0)


def discard(session: Session, token: str) -> None:
    for table in TABLES:
        session.execute(delete(table).where(table.token == token))


def discard_stale(session: Session, now: datetime) -> int:
    """Delete the staged rows of runs that died: their job ended or stopped beating, or (no job) they are old."""
    dead_jobs = select(ImportJob.id).where(or_(ImportJob.status.in_(("done", "failed")),
                                               ImportJob.heartbeat_at < now - JOB_STALE_AFTER))
    deleted = 0
    for table in TABLES:
        result = session.execute(delete(table).where(or_(
            table.job_id.in_(dead_jobs), (table.job_id.is_(None)) & (table.created_at < now - ORPHAN_AFTER))))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted
