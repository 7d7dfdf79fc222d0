"""One web host's capacity: gunicorn with deploy/gunicorn.conf.py, loaded from a second process on 127.0.0.1.

    .venv/bin/python bench/web_capacity.py [--seconds 8] [--clients 8] [--backend sqlite|postgresql|both]
                                           [--database-url URL]

The load mixes ratings through the integration API (``POST /api/v1/responses``, paper ballots, one
transaction each: the write path every channel shares) and the public notice page of a unit
(``GET /cong-khai/<unit>``, a read that renders a template), half each, from ``--clients`` threads
that send as fast as answers come. Prints requests per second and the 50th/99th percentile latency per
kind. SQLite: a fresh file; PostgreSQL: a throwaway cluster (tests/pgcluster.py) unless ``--database-url``
names an empty database. The figures are rough on a shared machine: the load generator and the
server share its cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sipas.accounts import create_api_key  # noqa: E402
from sipas.catalogue import load_catalogue  # noqa: E402
from sipas.migrate import upgrade  # noqa: E402
from sipas.settings import DEFAULT_CONFIG_DIR, Settings  # noqa: E402
from sipas.storage import Database  # noqa: E402
from sipas.units import create_unit  # noqa: E402

UNIT = "P-BENCH"


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(url: str) -> tuple[str, dict[str, str]]:
    upgrade(url)
    database = Database(Settings.from_env({}, database_url=url, secret_key="bench"))
    try:
        with database.session() as session:
            unit = create_unit(session, code=UNIT, name="Phường Đo Tải", actor="bench")
            _key, plaintext = create_api_key(session, unit, name="bench", actor="bench")
    finally:
        database.dispose()
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    quay4 = catalogue.current("quay4", date.today())
    return plaintext, {c.code: c.options[0].code for c in quay4.citizen_criteria}


def _client(base: str, key: str, answers: dict[str, str], seconds: float, clients: int,
            results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The load generator (its own process): ``clients`` threads, each alternating a rating and a page."""
    timings: dict[str, list[float]] = {"rating": [], "page": []}
    errors: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def drive(index: int) -> None:
        with requests.Session() as http:
            http.trust_env = False
            n = 0
            while time.monotonic() < deadline:
                n += 1
                started = time.perf_counter()
                if n % 2:
                    kind = "rating"
                    answer = http.post(f"{base}/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
                                       json={"instrument": "quay4", "channel": "paper", "answers": answers,
                                             "idempotency_key": f"bench-{index}-{n}"}, timeout=30)
                    ok = answer.status_code == 201
                else:
                    kind = "page"
                    answer = http.get(f"{base}/cong-khai/{UNIT}", timeout=30)
                    ok = answer.status_code == 200
                elapsed = time.perf_counter() - started
                with lock:
                    (timings[kind] if ok else errors).append(elapsed if ok else answer.status_code)  # type: ignore[arg-type]

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((timings, errors))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def measure(url: str, label: str, seconds: float, clients: int) -> None:
    key, answers = _seed(url)
    port = _port()
    instance = Path(tempfile.mkdtemp(prefix="sipas-bench-"))
    env = {**os.environ, "SIPAS_DATABASE_URL": url, "SIPAS_SECRET_KEY": "bench", "SIPAS_INSTANCE_DIR": str(instance),
           "SIPAS_SECURE_COOKIES": "false", "SIPAS_BIND": f"127.0.0.1:{port}"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                               "sipas.wsgi:create()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"{label}: the server did not start")
            time.sleep(0.2)
        results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        load = multiprocessing.Process(target=_client, args=(base, key, answers, seconds, clients, results))
        load.start()
        timings, errors = results.get(timeout=seconds + 120)
        load.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    total = sum(len(v) for v in timings.values())
    workers, threads = os.environ.get("SIPAS_WORKERS", "2"), os.environ.get("SIPAS_THREADS", "4")
    print(f"{label:<11} gunicorn {workers} workers x {threads} threads, {clients} clients, {seconds:.0f} s: "
          f"{total / seconds:7.1f} req/s, errors {len(errors)}")
    for kind, values in timings.items():
        print(f"  {kind:<7} {len(values) / seconds:7.1f}/s  p50 {_percentile(values, 0.5) * 1000:6.1f} ms  "
              f"p99 {_percentile(values, 0.99) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a throwaway cluster")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs on this machine (shared by the server and the load generator)")
    if args.backend in ("sqlite", "both"):
        measure(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", "SQLite", args.seconds, args.clients)
    if args.backend in ("postgresql", "both"):
        if args.database_url:
            measure(args.database_url, "PostgreSQL", args.seconds, args.clients)
            return
        from tests.pgcluster import PostgresCluster

        cluster = PostgresCluster()
        try:
            measure(cluster.start(), "PostgreSQL", args.seconds, args.clients)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
