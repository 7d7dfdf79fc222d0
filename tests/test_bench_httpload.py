"""``bench/httpload.py``: one load process serves a series of runs, each counted on its own (the intake bench)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.httpload import LoadGenerator, Plan, Request


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(self.path)
        status = 201 if not self.path.startswith("/refuse") else 409
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def numbered_plan(prefix: str) -> Plan:
    def plan(n: int) -> Request:
        return "POST", f"/{prefix}/{n}", {"Content-Type": "application/json"}, b"{}"
    return plan


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_one_process_runs_every_job_and_counts_each_on_its_own(server: int) -> None:
    with LoadGenerator() as generator:
        pid = generator.pid
        first = generator.load(server, numbered_plan, {"prefix": "a"}, clients=2, seconds=0.3)
        second = generator.load(server, numbered_plan, {"prefix": "refuse"}, clients=2, seconds=0.3)
        assert generator.pid == pid
    assert first.latencies and not first.errors
    assert not second.latencies and second.errors == {"409": sum(p.startswith("/refuse") for p in _Handler.seen)}
    assert len(first.latencies) == sum(p.startswith("/a/") for p in _Handler.seen)
    # request numbers are unique within a run: every rating of a run can carry its own dossier
    assert len({p for p in _Handler.seen if p.startswith("/a/")}) == len(first.latencies)


def test_a_failed_run_is_reported_and_the_process_goes_on() -> None:
    with LoadGenerator() as generator:
        with pytest.raises(RuntimeError, match="load generator failed"):
            generator.load(1, numbered_plan, {"prefix": "x"}, clients=1, seconds=0.1)  # nothing listens on port 1
        with pytest.raises(RuntimeError, match="load generator failed"):
            generator.load(1, numbered_plan, {"unknown": "x"}, clients=1, seconds=0.1)
