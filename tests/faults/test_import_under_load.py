"""A 40,000-row dossier import while 24 API writers work (issue "Trust", point 7), in the production shape:
gunicorn on 127.0.0.1 (two workers) and ``sipas import-dossiers`` in its own process, with the production busy
timeout. The import stages its rows batch by batch, then swaps them in with one transaction: every writer
gets 2xx throughout, none a 5xx, including the writers that arrive while the swap holds the write lock.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from sipas.models import Dossier, Response
from sipas.settings import Settings
from sipas.storage import Database
from tests.factories import create_key, create_unit
from tests.faults.load import Server, server_env
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row

pytestmark = pytest.mark.slow

ROWS = 40_000
WRITERS = 24
#: Each writer's pause between two dossier + rating pairs: the load is steady, not a CPU flood of the 2 cores.
PACE = 0.25
ANSWERS = {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}


def test_api_writers_get_2xx_while_a_40000_row_import_stages_and_swaps(server_database_url: str,
                                                                       tmp_path: Path) -> None:
    env = server_env(server_database_url, tmp_path / "instance")
    database = Database(Settings.from_env({}, database_url=server_database_url, secret_key="x",
                                          instance_dir=tmp_path / "instance"))
    with database.session() as session:
        unit = create_unit(session, code="PHLOAD")
        key = create_key(session, unit)
    path = tmp_path / "hoso.csv"
    path.write_bytes(csv_bytes([DOSSIER_HEADER, *[dossier_row(f"H-{n:06d}") for n in range(ROWS)]]))
    server = Server(env, tmp_path / "server.log")
    server.start()
    stopped = threading.Event()
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        web = requests.Session()
        web.headers["Authorization"] = f"Bearer {key}"
        for n in itertools.count():
            if stopped.is_set():
                return
            code, started = f"API-{number}-{n}", time.monotonic()
            created = web.post(f"{server.url}/api/v1/dossiers", timeout=60, json={
                "code": code, "received_at": "2026-01-05T09:00:00+07:00",
                "returned_at": "2026-01-07T09:00:00+07:00"}).status_code
            rated = web.post(f"{server.url}/api/v1/responses", timeout=60, json={
                "instrument": "quay4", "channel": "api", "dossier_code": code, "answers": ANSWERS,
                "submitted_at": "2026-01-07T16:00:00+07:00"}).status_code
            with lock:
                results.extend([(started, created), (started, rated)])
            stopped.wait(PACE)  # pacing the load (returns at once when the import has ended)

    threads = [threading.Thread(target=writer, args=(number,), daemon=True) for number in range(WRITERS)]
    swap_started: list[float] = []
    try:
        for thread in threads:
            thread.start()
        process = subprocess.Popen([sys.executable, "-m", "sipas.cli", "import-dossiers", str(path), "--unit",
                                    "PHLOAD"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stderr is not None
        for line in iter(process.stderr.readline, b""):  # the progress line announces the swap
            if "đang ghi".encode() in line and not swap_started:
                swap_started.append(time.monotonic())
        output = process.communicate(timeout=300)[0].decode()
        swap_ended = time.monotonic()
        assert process.returncode == 0, output
    finally:
        stopped.set()
        for thread in threads:
            thread.join(timeout=90)
        server.stop()
    statuses = [status for _, status in results]
    print(f"\n{len(statuses)} writes, statuses {sorted(set(statuses))}, swap (progress line to exit) "
          f"{swap_ended - swap_started[0]:.1f} s" if swap_started else "")
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    assert swap_started and any(swap_started[0] <= started <= swap_ended for started, _ in results)
    with database.session() as session:
        rated = len(statuses) // 2
        assert session.scalar(select(func.count()).select_from(Response)) == rated
        assert session.scalar(select(func.count()).select_from(Dossier)) == ROWS + rated
    database.dispose()
