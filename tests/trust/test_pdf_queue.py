"""Draft PDFs no longer starve the server: converted in the background (the request answers at once with a
progress page), one LibreOffice at a time per host, a bounded queue answering 503 with ``Retry-After`` beyond
it, and identical drafts served from a cache keyed by the DOCX content.

16 concurrent draft PDFs used to start 16 LibreOffice processes at once (one per gunicorn worker, each with its
own profile) and pushed ``/healthz`` to 12.5 s. The converter here is a stand-in that probes a file lock: if two
ran at once the second would find the probe taken and say so.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aggregator.notices import pdf_jobs
from aggregator.notices.docx_render import render_docx
from aggregator.notices.pdf_render import MAX_QUEUED, PdfBusy, docx_to_pdf, queue_slot
from sipas.app import create_app
from sipas.settings import Settings
from sipas.storage import get_database
from tests.browser_support import LiveServer, _free_port
from tests.factories import create_clerk, create_unit, login
from tests.notices.pdf_progress import attribute
from tests.notices.test_format import view_of

pytestmark = pytest.mark.slow  # starts a server

REQUESTS = 16
PROBE_SOFFICE = f"""#!{sys.executable}
import fcntl, hashlib, os, pathlib, sys, time
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--outdir") + 1])
source = pathlib.Path(args[-1])
log = pathlib.Path(os.environ["PROBE_DIR"]) / "runs.log"
with open(pathlib.Path(os.environ["PROBE_DIR"]) / "probe.lock", "a+b") as probe:
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        with open(log, "a") as f:
            f.write("overlap\\n")
        sys.exit(1)
    with open(log, "a") as f:
        f.write("run\\n")
    time.sleep(0.25)
out.mkdir(parents=True, exist_ok=True)
digest = hashlib.sha256(source.read_bytes()).hexdigest()
(out / (source.stem + ".pdf")).write_bytes(b"%PDF-1.4\\n% probe " + digest.encode() + b"\\n%%EOF\\n")
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "probe").mkdir()
    script = tmp_path / "probe" / "soffice-probe"
    script.write_text(PROBE_SOFFICE)
    script.chmod(0o755)
    monkeypatch.setenv("PROBE_DIR", str(tmp_path / "probe"))
    return script


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path, probe: Path) -> Iterator[LiveServer]:
    path = tmp_path / "pdf.db"
    shutil.copyfile(sqlite_template, path)
    port = _free_port()
    settings = Settings.from_env({"SIPAS_SOFFICE": str(probe)}, database_url=f"sqlite:///{path}",
                                 secret_key="pdf-queue-secret", public_base_url=f"http://127.0.0.1:{port}",
                                 instance_dir=tmp_path / "instance", secure_cookies=False, testing=True)
    live = LiveServer(create_app(settings), port)
    live.app.config["PROPAGATE_EXCEPTIONS"] = False
    live.start()
    try:
        yield live
    finally:
        live.stop()
        get_database(live.app).dispose()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def runs(probe: Path) -> list[str]:
    log = probe.parent / "runs.log"
    return log.read_text().split() if log.exists() else []


def follow(base: str, page: str, cookie: dict[str, str]) -> bytes:
    """What the progress page's script does: poll the status URL until ready, then fetch the PDF."""
    status_url, file_url = attribute(page, "data-status-url"), attribute(page, "data-file-url")
    deadline = time.monotonic() + 60
    while True:
        status, body, _ = fetch(base + status_url, cookie)
        state = json.loads(body)
        assert status == 200 and state["state"] in ("queued", "ready"), state
        if state["state"] == "ready":
            status, pdf, headers = fetch(base + file_url, cookie)
            assert status == 200 and headers["Content-Type"] == "application/pdf"
            return pdf
        assert time.monotonic() < deadline, "the conversion did not finish"
        time.sleep(0.05)


def test_concurrent_draft_pdfs_convert_one_at_a_time_and_healthz_answers(server: LiveServer, probe: Path) -> None:
    with get_database(server.app).session() as session:
        unit = create_unit(session)
        clerk = create_clerk(session, unit)
        unit_code = unit.code
    console = server.app.test_client()
    login(console, clerk)
    cookie = {"Cookie": f"session={console.get_cookie('session').value}"}
    quarters = [f"{year}Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)]  # distinct drafts
    health: list[int] = []
    converting = threading.Event()

    def draft(i: int) -> tuple[int, bytes, dict[str, str]]:
        quarter = quarters[i % len(quarters)]
        return fetch(f"{server.url}/console/thong-bao/du-thao.pdf?unit={unit_code}&quarter={quarter}", cookie)

    def watch_health() -> None:
        while converting.is_set() or not health:
            health.append(fetch(f"{server.url}/healthz")[0])

    converting.set()
    with ThreadPoolExecutor(max_workers=REQUESTS + 1) as pool:
        watcher = pool.submit(watch_health)
        try:
            answers = list(pool.map(draft, range(REQUESTS)))  # each answers at once: a progress page or 503
            pdfs = {i: follow(server.url, body.decode(), cookie) if "html" in headers["Content-Type"] else body
                    for i, (status, body, headers) in enumerate(answers) if status == 200}
        finally:  # a failure above must end the watcher too, or leaving the pool would wait for it for ever
            converting.clear()
        watcher.result()

    assert "overlap" not in runs(probe)  # never two converters at once
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert pdfs and all(pdf.startswith(b"%PDF") for pdf in pdfs.values())
    assert len(runs(probe)) == len(set(pdfs.values()))  # one conversion per distinct draft
    for status, body, headers in answers:
        if status == 503:
            assert int(headers["Retry-After"]) > 0 and "Vui lòng thử lại" in body.decode()
    assert health and set(health) == {200}  # the server answered its health check all along

    # the same draft again: served from the cache at once, identical bytes, no conversion
    first = min(pdfs)
    before = len(runs(probe))
    status, body, headers = draft(first)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body == pdfs[first] and len(runs(probe)) == before


def test_the_job_queue_is_bounded(tmp_path: Path, probe: Path) -> None:
    for quarter in range(MAX_QUEUED):
        pdf_jobs.submit(render_docx(view_of(number_=quarter + 1)), tmp_path, str(probe), start_worker=False)
    with pytest.raises(PdfBusy):
        pdf_jobs.submit(render_docx(view_of(number_=99)), tmp_path, str(probe), start_worker=False)
    assert pdf_jobs.run_pending(tmp_path, str(probe)) == MAX_QUEUED and runs(probe) == ["run"] * MAX_QUEUED
    key = pdf_jobs.submit(render_docx(view_of(number_=99)), tmp_path, str(probe), start_worker=False)
    assert pdf_jobs.status(tmp_path, key) == {"state": "queued", "ahead": 0}
    probe.unlink()  # the converter is gone: the job fails with a Vietnamese reason, the next submit retries
    pdf_jobs.run_pending(tmp_path, str(probe))
    state = pdf_jobs.status(tmp_path, key)
    assert state is not None and state["state"] == "failed" and "LibreOffice" in state["message"]
    assert pdf_jobs.status(tmp_path, "../../etc/passwd") is None and pdf_jobs.cached_pdf(tmp_path, "..") is None


def test_cache_hit_returns_identical_bytes_without_the_converter(tmp_path: Path, probe: Path) -> None:
    docx = render_docx(view_of())
    cache = tmp_path / "cache"
    first = docx_to_pdf(docx, soffice=str(probe), lock_dir=tmp_path, cache_dir=cache)
    assert runs(probe) == ["run"]
    probe.unlink()  # no converter at all now
    assert docx_to_pdf(docx, soffice=str(probe), lock_dir=tmp_path, cache_dir=cache) == first
    assert runs(probe) == ["run"]


def test_a_full_queue_is_refused_at_once(tmp_path: Path) -> None:
    with queue_slot(tmp_path, slots=2), queue_slot(tmp_path, slots=2):
        with pytest.raises(PdfBusy) as refused, queue_slot(tmp_path, slots=2):
            pass
        assert "thử lại" in refused.value.message_vi and refused.value.retry_after > 0
    with queue_slot(tmp_path, slots=2):  # slots come back when released
        pass


@pytest.mark.slow
def test_real_libreoffice_through_the_queue_and_cache(tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice (soffice) is required for this test")
    docx = render_docx(view_of())
    pdf = docx_to_pdf(docx, lock_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert pdf.startswith(b"%PDF") and list((tmp_path / "cache").glob("*.pdf"))
    assert docx_to_pdf(docx, soffice="/khong/co/soffice", lock_dir=tmp_path, cache_dir=tmp_path / "cache") == pdf
