"""Draft PDFs no longer starve the server: one LibreOffice at a time per host, a bounded queue answering 503
with ``Retry-After`` beyond it, and identical drafts served from a cache keyed by the DOCX bytes.

16 concurrent draft PDFs used to start 16 LibreOffice processes at once (one per gunicorn worker, each with its
own profile) and pushed ``/healthz`` to 12.5 s. The converter here is a stand-in that probes a file lock: if two
ran at once the second would find the probe taken and say so.
"""

from __future__ import annotations

import shutil
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aggregator.notices.docx_render import render_docx
from aggregator.notices.pdf_render import MAX_QUEUED, PdfBusy, docx_to_pdf, queue_slot
from sipas.app import create_app
from sipas.settings import Settings
from sipas.storage import get_database
from tests.browser_support import LiveServer, _free_port
from tests.factories import create_clerk, create_unit, login
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
        answers = list(pool.map(draft, range(REQUESTS)))
        converting.clear()
        watcher.result()

    assert "overlap" not in runs(probe)  # never two converters at once
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    served = {body for status, body, _ in answers if status == 200}
    assert statuses.count(200) >= 1 and len(runs(probe)) == len(served)  # one conversion per distinct draft
    assert statuses.count(503) >= REQUESTS - 2 * MAX_QUEUED  # a bounded queue: the rest were told to come back
    for status, body, headers in answers:
        if status == 200:
            assert body.startswith(b"%PDF")
        else:
            assert int(headers["Retry-After"]) > 0 and "Vui lòng thử lại" in body.decode()
    assert health and set(health) == {200}  # the server answered its health check all along

    # the same draft again: served from the cache, identical bytes, no conversion
    first = next(i for i, (status, _, _) in enumerate(answers) if status == 200)
    before = len(runs(probe))
    status, body, _ = draft(first)
    assert status == 200 and body == answers[first][1] and len(runs(probe)) == before


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
