"""Routes that used to write inside a GET (the /r/<code> miss counter, QR slip printing, the kiosk's armed
poll) answer without a 5xx while 24 API clients write, on a real threaded server over a SQLite file.

On SQLite a GET's read transaction that later writes fails at once with "database is locked" when
another connection wrote meanwhile; the bookkeeping now goes through a short write session that takes
the write lock at BEGIN (and the armed hand-over is a POST).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sipas.app import create_app
from sipas.models import AuditEvent, Response, ThrottleCounter
from sipas.settings import Settings
from sipas.storage import get_database
from tests.browser_support import LiveServer, _free_port
from tests.factories import answers_for, create_clerk, create_dossier, create_key, create_unit, login
from tests.kiosk.helpers import new_device

pytestmark = pytest.mark.slow  # starts a server

WRITERS = 24
WRITES_EACH = 6
SECRET = "load-test-secret"


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    path = tmp_path / "load.db"
    shutil.copyfile(sqlite_template, path)
    port = _free_port()
    settings = Settings.from_env({"SIPAS_LINK_MAX_FAILURES": "100000"}, database_url=f"sqlite:///{path}",
                                 secret_key=SECRET, public_base_url=f"http://127.0.0.1:{port}",
                                 instance_dir=tmp_path / "instance", secure_cookies=False, testing=True)
    live = LiveServer(create_app(settings), port)
    live.app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a failure is an answer, not a crash
    live.start()
    try:
        yield live
    finally:
        live.stop()
        get_database(live.app).dispose()


def call(url: str, *, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def test_get_routes_that_keep_records_never_fail_while_24_clients_write(server, catalogue):
    app = server.app
    with get_database(app).session() as session:
        unit = create_unit(session, allow_anonymous=True)
        keys = [create_key(session, unit) for _ in range(WRITERS)]
        dossiers = [create_dossier(session, unit).code for _ in range(12)]
        _, _, token = new_device(session, unit, secret=SECRET)
        clerk = create_clerk(session, unit)
        unit_code, day = unit.code, "2026-01-07"
    console = app.test_client()
    login(console, clerk)
    cookie = {"Cookie": f"session={console.get_cookie('session').value}"}
    base = server.url
    reads = [
        lambda i: call(f"{base}/r/KHONGCO{i:05d}"),  # an unknown code: counted per client
        lambda i: call(f"{base}/r/KHONGCO{i:05d}/qr.svg"),
        lambda i: call(f"{base}/console/sms/{unit_code}/slip?dossier={dossiers[i % len(dossiers)]}", headers=cookie),
        lambda i: call(f"{base}/console/sms/{unit_code}/slips/day?date={day}", headers=cookie),
        lambda i: call(f"{base}/kiosk/{unit_code}/api/armed", method="POST", body={},
                       headers={"X-Kiosk-Token": token}),
    ]
    body = {"instrument": "hue12", "channel": "paper", "answers": answers_for(catalogue)}
    writing = threading.Event()
    statuses: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def note(kind: str, status: int) -> None:
        with lock:
            statuses[(kind, status)] += 1

    def writer(key: str) -> None:
        for _ in range(WRITES_EACH):
            note("write", call(f"{base}/api/v1/responses", method="POST", body=body,
                               headers={"Authorization": f"Bearer {key}"}))

    def reader(route: int) -> None:
        deadline = time.monotonic() + 60
        i = 0
        while (writing.is_set() or i < 3) and time.monotonic() < deadline and i < 200:
            note(f"route{route}", reads[route](i))
            i += 1

    writing.set()
    with ThreadPoolExecutor(max_workers=WRITERS + len(reads)) as pool:
        readers = [pool.submit(reader, route) for route in range(len(reads))]
        writers = [pool.submit(writer, key) for key in keys]
        for future in writers:
            future.result()
        writing.clear()
        for future in readers:
            future.result()

    failures = {k: n for k, n in statuses.items() if k[1] >= 500}
    assert failures == {}, statuses
    assert statuses[("write", 201)] == WRITERS * WRITES_EACH
    assert {kind for kind, status in statuses if status < 400} == {"write", "route2", "route3", "route4"}
    assert statuses[("route0", 404)] >= 3 and statuses[("route1", 404)] >= 3
    with get_database(app).read_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == WRITERS * WRITES_EACH
        misses = statuses[("route0", 404)] + statuses[("route1", 404)]
        assert session.scalar(select(func.sum(ThrottleCounter.count))
                              .where(ThrottleCounter.key.startswith("link:"))) == misses
        printed = statuses[("route2", 200)] + statuses[("route3", 200)]
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "qr.slips_printed")) == printed
    assert call(f"{base}/kiosk/{unit_code}/api/armed", headers={"X-Kiosk-Token": token}) == 405  # never a GET
