"""Notice PDFs converted in the background, so a request never holds a worker for LibreOffice.

A request renders the DOCX (fast) and calls :func:`submit`: when the PDF of that content is cached it
is served at once; otherwise the DOCX is dropped as a job file ``<instance>/pdf/jobs/<key>.docx`` and
the page shows progress while a converter thread of this process works through the job files, one
LibreOffice at a time per host (the host lock of :mod:`pdf_render`). The job folder is the bounded
queue: with ``MAX_QUEUED`` jobs waiting a new one raises :class:`PdfBusy` (503 + ``Retry-After``).
A failed conversion leaves ``<key>.error`` with the Vietnamese reason for the progress page.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from aggregator.notices.pdf_render import MAX_QUEUED, PdfBusy, PdfError, content_key, docx_to_pdf

log = logging.getLogger(__name__)
KEY = re.compile(r"[0-9a-f]{64}")
_worker_guard = threading.Lock()
_workers: dict[Path, threading.Thread] = {}


def jobs_dir(pdf_dir: Path) -> Path:
    return pdf_dir / "jobs"


def cache_dir(pdf_dir: Path) -> Path:
    return pdf_dir / "cache"


def cached_pdf(pdf_dir: Path, key: str) -> bytes | None:
    """The converted PDF of ``key``, or None (also for a key that is not a content hash)."""
    if not KEY.fullmatch(key):
        return None
    try:
        return (cache_dir(pdf_dir) / f"{key}.pdf").read_bytes()
    except OSError:
        return None


def _pending(pdf_dir: Path) -> list[Path]:
    folder = jobs_dir(pdf_dir)
    if not folder.exists():
        return []
    jobs = []
    for path in folder.glob("*.docx"):
        try:
            jobs.append((path.stat().st_mtime_ns, path))
        except OSError:  # taken by a converter meanwhile
            continue
    return [path for _mtime, path in sorted(jobs)]


def submit(docx: bytes, pdf_dir: Path, soffice: str, *, start_worker: bool = True) -> str:
    """The content key of ``docx``, queued for conversion unless its PDF is cached or already queued."""
    key = content_key(docx)
    if cached_pdf(pdf_dir, key) is not None:
        return key
    folder = jobs_dir(pdf_dir)
    job = folder / f"{key}.docx"
    if not job.exists():
        if len(_pending(pdf_dir)) >= MAX_QUEUED:
            raise PdfBusy()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.error").unlink(missing_ok=True)  # a new attempt
        partial = folder / f"{key}.{threading.get_ident()}.part"
        partial.write_bytes(docx)
        partial.replace(job)
    if start_worker:
        ensure_worker(pdf_dir, soffice)
    return key


def status(pdf_dir: Path, key: str) -> dict[str, Any] | None:
    """``{"state": "ready" | "failed" | "queued", ...}``, or None for a key nobody asked for."""
    if not KEY.fullmatch(key):
        return None
    if (cache_dir(pdf_dir) / f"{key}.pdf").exists():
        return {"state": "ready"}
    error = jobs_dir(pdf_dir) / f"{key}.error"
    if error.exists():
        return {"state": "failed", "message": error.read_text(encoding="utf-8")}
    pending = [path.stem for path in _pending(pdf_dir)]
    if key in pending:
        return {"state": "queued", "ahead": pending.index(key)}
    return None


def run_pending(pdf_dir: Path, soffice: str) -> int:
    """Convert every waiting job, oldest first; the number converted or failed."""
    done = 0
    while jobs := _pending(pdf_dir):
        job = jobs[0]
        key = job.stem
        try:
            docx = job.read_bytes()
        except OSError:
            continue  # finished by another process's converter meanwhile
        try:
            docx_to_pdf(docx, soffice=soffice, lock_dir=pdf_dir, cache_dir=cache_dir(pdf_dir), queued=False)
        except PdfError as exc:
            (jobs_dir(pdf_dir) / f"{key}.error").write_text(exc.message_vi, encoding="utf-8")
        except Exception:  # the converter thread must survive whatever one document does
            log.exception("notice PDF job %s failed", key)
            (jobs_dir(pdf_dir) / f"{key}.error").write_text(
                "Không tạo được tệp PDF. Vui lòng thử lại hoặc tải bản DOCX.", encoding="utf-8")
        job.unlink(missing_ok=True)
        done += 1
    return done


def ensure_worker(pdf_dir: Path, soffice: str) -> None:
    """Start this process's converter thread for ``pdf_dir`` unless it is running; it stops when idle."""
    with _worker_guard:
        thread = _workers.get(pdf_dir)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_work, args=(pdf_dir, soffice), name="notice-pdf", daemon=True)
        _workers[pdf_dir] = thread
        thread.start()


def _work(pdf_dir: Path, soffice: str) -> None:
    while True:
        run_pending(pdf_dir, soffice)
        with _worker_guard:  # a job submitted while we finished is seen here, or starts a new thread
            if not _pending(pdf_dir):
                _workers.pop(pdf_dir, None)
                return
