"""Request latency histograms by route, shared by every worker process of one host through a directory.

gunicorn runs several worker processes and a scrape reaches one of them, so each process keeps its
own histogram in memory and writes it (at most once a second, and when it answers a scrape) to
``<metrics dir>/<host>-<pid>.json``; ``GET /metrics`` sums every file in the directory. Files of
processes that ended are kept, so the sums only grow (Prometheus counters); clear the directory when
the service starts (``deploy/gunicorn.conf.py`` does, in ``on_starting``). Each host has its own
directory and Prometheus scrapes each host (its ``instance`` label), as for any multi-host service.

The route label is the URL rule (``/r/<code>``), never the path: no link code or dossier number.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from sipas.prometheus import Family

log = logging.getLogger(__name__)
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
UNMATCHED = "<unmatched>"

Key = tuple[str, str]  # (route, method)


class RequestHistograms:
    """This process's observations and where they are written."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self.series: dict[Key, list[float]] = {}  # counts per bucket (len(BOUNDS) + 1), then the sum
        self.flushed_at = 0.0
        self.dirty = False
        self.warned = False

    @property
    def path(self) -> Path:
        return self.directory / f"{socket.gethostname()}-{os.getpid()}.json"

    def observe(self, route: str, method: str, seconds: float) -> None:
        index = next((i for i, bound in enumerate(BOUNDS) if seconds <= bound), len(BOUNDS))
        with self.lock:
            series = self.series.setdefault((route, method), [0.0] * (len(BOUNDS) + 2))
            series[index] += 1
            series[-1] += seconds
            self.dirty = True
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            if not self.dirty:
                return
            rows = [[route, method, *values] for (route, method), values in self.series.items()]
            self.dirty = False
            self.flushed_at = time.monotonic()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(rows), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:  # monitoring must never fail a request
            if not self.warned:
                log.warning("request latency not written to %s: %s", self.directory, exc)
                self.warned = True


def merged(directory: Path) -> dict[Key, list[float]]:
    """The sum of every process's histograms written in ``directory``."""
    totals: dict[Key, list[float]] = {}
    if not directory.is_dir():
        return totals
    for path in sorted(directory.glob("*.json")):
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file being replaced or damaged: the next scrape reads it
        for route, method, *values in rows:
            series = totals.setdefault((route, method), [0.0] * (len(BOUNDS) + 2))
            for i, value in enumerate(values):
                series[i] += value
    return totals


def family(directory: Path) -> Family:
    result = Family("sipas_http_request_duration_seconds", "histogram",
                    "Time to answer a request, by route (the URL rule) and method, summed over this host's workers.")
    for (route, method), values in sorted(merged(directory).items()):
        result.add_histogram({"route": route, "method": method}, BOUNDS, [int(v) for v in values[:-1]], values[-1])
    return result
