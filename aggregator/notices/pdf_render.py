"""DOCX → PDF with LibreOffice headless, so the printed PDF is the DOCX the clerk can edit.

Two conversions sharing one LibreOffice profile fail silently (exit 1, no PDF), and creating a fresh
profile costs seconds. So each process keeps its own profile directory. A conversion takes a CPU core
for seconds, and 16 at once starved the server (``/healthz`` took 12.5 s), so the host runs **one
LibreOffice at a time**: an OS file lock (``fcntl.flock`` on ``convert.lock`` in the lock directory,
the instance folder in the app) holds across gunicorn worker processes and is released by the kernel if
a process dies. The queue in front of it is bounded: a request first takes one of ``MAX_QUEUED`` slot
locks without waiting; when all are taken it gets :class:`PdfBusy` (the page answers 503 with
``Retry-After``) instead of piling up workers. PDFs are cached by the SHA-256 of the DOCX content
(:func:`content_key`), so an identical draft (same figures, same template) is served at once without
LibreOffice; the cache is checked again after the lock is won, so identical drafts queued together
convert once. The binary
comes from ``SIPAS_SOFFICE`` (default ``soffice``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 90
MAX_QUEUED = 4  # conversions running or waiting per host; more get PdfBusy
RETRY_AFTER_SECONDS = 15
CACHE_ENTRIES = 200
_lock = threading.Lock()


_cleanup_registered: set[int] = set()


def _profile_dir() -> Path:
    """A LibreOffice profile private to this process (and user), removed when the process exits."""
    path = Path(tempfile.gettempdir()) / f"sipas-lo-{os.getuid()}-{os.getpid()}"
    if os.getpid() not in _cleanup_registered:
        _cleanup_registered.add(os.getpid())
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class RenderError(RuntimeError):
    """A document could not be produced; ``message_vi`` says why in words a clerk can act on."""

    def __init__(self, message_vi: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi


class PdfError(RenderError):
    """LibreOffice failed or is missing (the DOCX still downloads)."""


class PdfBusy(PdfError):
    """Too many PDFs already waiting for LibreOffice on this host."""

    def __init__(self) -> None:
        super().__init__(f"Máy chủ đang tạo nhiều bản PDF cùng lúc. Vui lòng thử lại sau khoảng "
                         f"{RETRY_AFTER_SECONDS} giây; bản DOCX vẫn tải được ngay.")
        self.retry_after = RETRY_AFTER_SECONDS


def default_lock_dir() -> Path:
    """Where the host-wide lock lives when no instance folder is given (scripts, tests)."""
    return Path(tempfile.gettempdir()) / f"sipas-pdf-{os.getuid()}"


def _open_lock(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a+b")  # the caller closes it, which releases the flock


@contextlib.contextmanager
def queue_slot(lock_dir: Path, slots: int = MAX_QUEUED) -> Iterator[None]:
    """Take one of ``slots`` places in the host's PDF queue without waiting, or raise :class:`PdfBusy`."""
    for index in range(slots):
        handle = _open_lock(lock_dir / f"queue-{index}.lock")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield
        finally:
            handle.close()  # closing releases the flock
        return
    raise PdfBusy()


@contextlib.contextmanager
def host_lock(lock_dir: Path) -> Iterator[None]:
    """One LibreOffice conversion at a time on this host, across threads and processes."""
    with _lock:  # threads of this process wait here (they share its LibreOffice profile), then processes
        handle = _open_lock(lock_dir / "convert.lock")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()


def _cached(cache_dir: Path | None, key: str) -> bytes | None:
    if cache_dir is None:
        return None
    try:
        return (cache_dir / f"{key}.pdf").read_bytes()
    except OSError:
        return None


def _store(cache_dir: Path | None, key: str, pdf: bytes) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / f"{key}.{os.getpid()}.tmp"
    partial.write_bytes(pdf)
    partial.replace(cache_dir / f"{key}.pdf")  # atomic: a reader sees the whole PDF or none
    entries = sorted(cache_dir.glob("*.pdf"), key=lambda p: p.stat().st_mtime)
    for old in entries[:-CACHE_ENTRIES]:
        old.unlink(missing_ok=True)


def content_key(docx: bytes) -> str:
    """SHA-256 of the DOCX's members (names and contents), not of the ZIP: the ZIP stamps each member
    with the time of saving, so the same draft rendered a second later has other bytes but the same key."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            for name in sorted(archive.namelist()):
                member = archive.read(name)
                digest.update(f"{name}\0{len(member)}\0".encode())
                digest.update(member)
    except (zipfile.BadZipFile, OSError, ValueError):
        return hashlib.sha256(b"raw\0" + docx).hexdigest()
    return digest.hexdigest()


def soffice_binary(env: Mapping[str, str]) -> str:
    return env.get("SIPAS_SOFFICE") or "soffice"


def docx_to_pdf(docx: bytes, *, soffice: str = "soffice", timeout: float = DEFAULT_TIMEOUT,
                lock_dir: Path | None = None, cache_dir: Path | None = None, queued: bool = True) -> bytes:
    """The PDF of ``docx``: from the cache when present, else converted in the host's one-at-a-time queue.

    ``queued=False`` is for the background converter, whose job folder is already the bounded queue."""
    key = content_key(docx)
    cached = _cached(cache_dir, key)
    if cached is not None:
        return cached
    lock_dir = lock_dir or default_lock_dir()
    with queue_slot(lock_dir) if queued else contextlib.nullcontext(), host_lock(lock_dir):
        cached = _cached(cache_dir, key)  # converted by the request ahead of us in the queue
        if cached is not None:
            return cached
        pdf = _convert(docx, soffice=soffice, timeout=timeout)
    _store(cache_dir, key, pdf)
    return pdf


#: a tagged PDF: reading order, headings and the pictures' text alternatives (the DOCX's descr) for screen readers
PDF_FILTER = 'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"}}'


def _convert(docx: bytes, *, soffice: str, timeout: float) -> bytes:
    executable = shutil.which(soffice)
    if executable is None:
        raise PdfError(f"Không tìm thấy LibreOffice (“{soffice}”) để tạo PDF. Cài gói libreoffice-writer-nogui "
                       "hoặc đặt biến SIPAS_SOFFICE; bản DOCX vẫn tải được.")
    with tempfile.TemporaryDirectory(prefix="sipas-pdf-") as scratch:
        work = Path(scratch)
        source = work / "thong-bao.docx"
        source.write_bytes(docx)
        command = [executable, "--headless", "--norestore", "--nologo", "--nolockcheck",
                   f"-env:UserInstallation={_profile_dir().as_uri()}",
                   "--convert-to", PDF_FILTER, "--outdir", str(work / "out"), str(source)]
        started = time.monotonic()
        try:
            completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                                       stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(_profile_dir(), ignore_errors=True)  # a hung instance may leave the profile locked
            raise PdfError(f"LibreOffice không chuyển xong sang PDF trong {timeout:.0f} giây.") from exc
        target = work / "out" / "thong-bao.pdf"
        if not target.exists() or target.stat().st_size == 0:
            log.error("soffice exit %s, no PDF: %s", completed.returncode, completed.stderr[-500:])
            raise PdfError("LibreOffice không tạo được tệp PDF (mã lỗi "
                           f"{completed.returncode}). Vui lòng thử lại hoặc tải bản DOCX.")
        log.info("notice PDF converted in %.2f s", time.monotonic() - started)
        return target.read_bytes()
