"""DOCX → PDF with LibreOffice headless, so the printed PDF is the DOCX the clerk can edit.

Two conversions sharing one LibreOffice profile fail silently (exit 1, no PDF), and creating a fresh
profile costs seconds. So each process keeps its own profile directory and converts one document at
a time under a lock (threads of a gunicorn worker queue; workers never share a profile). The binary
comes from ``SIPAS_SOFFICE`` (default ``soffice``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 90
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


def soffice_binary(env: Mapping[str, str]) -> str:
    return env.get("SIPAS_SOFFICE") or "soffice"


def docx_to_pdf(docx: bytes, *, soffice: str = "soffice", timeout: float = DEFAULT_TIMEOUT) -> bytes:
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
                   "--convert-to", "pdf", "--outdir", str(work / "out"), str(source)]
        started = time.monotonic()
        try:
            with _lock:
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
