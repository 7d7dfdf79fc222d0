"""Console imports as background jobs: a job row (status, progress, result) and the upload in the instance folder.

The console returns at once to a job page that polls the progress; the import itself runs in a thread started
for that job in the web process (``start_thread``). A thread does not survive a gunicorn worker restart: the job
then stops beating (``heartbeat_at`` is renewed at every batch) and, once its heartbeat is older than
``STALE_AFTER``, it is shown as failed and the clerk can start it again from the same stored upload. Nothing
of the file is visible before its one swap transaction (rows wait in the staging table, see
``sipas.imports.staging``), so a cut-off job changed nothing; its staged rows are deleted by the next import or
the hourly purge (``sipas.throttle_purge``). The upload holds every phone number of the file: a finished job
deletes it, a failed one keeps it ``UPLOAD_KEPT`` for a retry, then the hourly purge deletes it.
Reading a job never writes (GET routes never write): staleness is derived.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from sipas.catalogue import Catalogue
from sipas.clock import utcnow
from sipas.imports.dossier_import import import_dossiers
from sipas.imports.report import ImportReport, RowError
from sipas.imports.response_import import import_responses
from sipas.models import DossierStaging, ImportJob, ImportStaging, Unit
from sipas.storage import Database

log = logging.getLogger(__name__)

#: A running job whose heartbeat is older than this was cut off (worker restarted): shown as failed.
STALE_AFTER = timedelta(minutes=5)
#: Row errors kept with the job's result (the page shows the first ones and the total).
MAX_ERRORS_KEPT = 1000
FINISHED = ("done", "failed")
INTERRUPTED_VI = ("Quá trình nhập bị gián đoạn (máy chủ khởi động lại hoặc gặp lỗi) nên chưa có dòng nào được "
                  "ghi: hãy bấm “Nhập lại”.")
#: How long the upload of a failed job is kept for a retry: it holds the file's phone numbers (personal data).
UPLOAD_KEPT = timedelta(days=7)
UPLOAD_GONE_VI = ("Quá trình nhập bị gián đoạn (máy chủ khởi động lại hoặc gặp lỗi) nên chưa có dòng nào được "
                  f"ghi; tệp tải lên đã được xóa (chỉ giữ {UPLOAD_KEPT.days} ngày vì chứa số điện thoại của người "
                  "dân): hãy chọn lại tệp để nhập.")


def create_job(session: Any, unit: Unit, kind: str, filename: str, data: bytes, *, skip_invalid: bool, actor: str,
               instance_dir: Path) -> ImportJob:
    """Store the upload and add a queued job (flushed; the caller commits before starting the thread)."""
    folder = instance_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    path.write_bytes(data)
    job = ImportJob(unit_id=unit.id, kind=kind, filename=filename[:200], upload_path=str(path),
                    skip_invalid=skip_invalid, actor=actor[:200], status="queued")
    session.add(job)
    session.flush()
    return job


def effective_status(job: ImportJob, now: datetime) -> str:
    """``queued``/``running``/``done``/``failed``; an unfinished job without a recent heartbeat is ``failed``."""
    if job.status not in FINISHED and job.heartbeat_at < now - STALE_AFTER:
        return "failed"
    return job.status


def progress_json(job: ImportJob, now: datetime) -> dict[str, object]:
    status = effective_status(job, now)
    return {"id": job.id, "status": status, "done": job.done, "total": job.total,
            "finished": status in FINISHED}


def report_of(job: ImportJob) -> tuple[ImportReport | None, int]:
    """The finished job's report as the import page shows it, and the total number of row errors."""
    result = job.result or {}
    if not result:
        return None, 0
    report = ImportReport(job.kind, job.filename, job.skip_invalid, sheet=result.get("sheet"),
                          header_row=result.get("header_row"), rows=result.get("rows", 0),
                          created=result.get("created", 0), updated=result.get("updated", 0),
                          unchanged=result.get("unchanged", 0), file_error=result.get("file_error"),
                          file_error_code=result.get("file_error_code"), written=result.get("written", False))
    report.errors = [RowError(*error) for error in result.get("errors", [])]
    return report, int(result.get("error_total", len(report.errors)))


def restart(session: Any, job: ImportJob, now: datetime) -> bool:
    """Queue a failed job again when its upload is still stored."""
    if effective_status(job, now) != "failed" or not Path(job.upload_path).exists():
        return False
    job.status, job.done, job.total, job.result, job.heartbeat_at, job.finished_at = "queued", 0, 0, None, now, None
    return True


def upload_kept(job: ImportJob) -> bool:
    """Whether the job's upload is still stored (a failed job's, for a retry)."""
    return Path(job.upload_path).is_file()


def purge_uploads(session: Any, now: datetime) -> int:
    """Delete the uploads of jobs that failed (or stopped beating) more than ``UPLOAD_KEPT`` ago; returns how many
    files went. A finished job deleted its own."""
    dead = session.scalars(select(ImportJob.upload_path).where(ImportJob.status != "done",
                                                               ImportJob.heartbeat_at < now - UPLOAD_KEPT))
    deleted = 0
    for path in dead:
        if Path(path).is_file():
            Path(path).unlink(missing_ok=True)
            deleted += 1
    return deleted


def start_thread(database: Database, job_id: int, **options: Any) -> threading.Thread:
    thread = threading.Thread(target=run_job, args=(database, job_id), kwargs=options, daemon=True,
                              name=f"import-job-{job_id}")
    thread.start()
    return thread


def run_job(database: Database, job_id: int, *, tz: tzinfo, secret: str, catalogue: Catalogue,
            phone_regions: Collection[str] | None) -> None:
    """Run one job to its end; any failure is recorded on the job (never raised into the thread)."""

    def beat(**values: object) -> None:
        with database.session() as session:
            session.execute(update(ImportJob).where(ImportJob.id == job_id).values(heartbeat_at=utcnow(), **values))

    beat(status="running")
    try:
        with database.session() as session:
            job = session.get(ImportJob, job_id)
            assert job is not None
            unit = session.get(Unit, job.unit_id)
            assert unit is not None
            data = Path(job.upload_path).read_bytes()
            session.commit()  # the file is parsed outside any transaction
            if job.kind == "responses":
                report = import_responses(session, catalogue, unit, data, job.filename, tz=tz, now=utcnow(),
                                          actor=job.actor, skip_invalid=job.skip_invalid, job_id=job_id,
                                          progress=lambda done, total: beat(done=done, total=total))
            else:
                report = import_dossiers(session, unit, data, job.filename, tz=tz, now=utcnow(), secret=secret,
                                         actor=job.actor, skip_invalid=job.skip_invalid,
                                         phone_regions=phone_regions, job_id=job_id,
                                         progress=lambda done, total: beat(done=done, total=total))
            session.commit()
    except Exception:
        log.exception("import job %s failed", job_id)
        with database.session() as session:
            for table in (ImportStaging, DossierStaging):
                session.execute(delete(table).where(table.job_id == job_id))
        beat(status="failed", finished_at=utcnow(), result={"file_error": INTERRUPTED_VI,
                                                           "file_error_code": "import_job_failed"})
        return
    beat(status="done", finished_at=utcnow(), result=_result(report))
    Path(job.upload_path).unlink(missing_ok=True)


def _result(report: ImportReport) -> dict[str, Any]:
    return {"sheet": report.sheet, "header_row": report.header_row, "rows": report.rows, "created": report.created,
            "updated": report.updated, "unchanged": report.unchanged, "file_error": report.file_error,
            "file_error_code": report.file_error_code, "written": report.written,
            "errors": [[e.row, e.column, e.message] for e in report.errors[:MAX_ERRORS_KEPT]],
            "error_total": len(report.errors)}
