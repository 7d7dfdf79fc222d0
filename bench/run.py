"""`make bench`: run every benchmark of the suite and write ``bench/results/<date>.md``.

A script belongs to the suite when it declares ``BENCH = True`` at module level (read from its source,
not imported). Each runs as ``python bench/<name>.py`` (in file-name order) with ``SIPAS_BENCH_OUT`` set
to ``bench/results/``: it prints its section as Markdown on stdout, may write charts (SVG/PNG) into that
folder and link them by file name. A script that fails or outlives its budget is reported as such and
the others still run. ``--only NAME`` runs one script; ``--budget`` bounds each in seconds.

A script whose data is built once and cached (``bench/.data/``) declares the commands that build it:
``DATA_BUILDS = [{"seconds": <about how long a first build takes>, "args": [<python arguments>]}, …]``. Before
anything is measured every such build runs, as many at a time as there are cores, the longest first (a build of
data already cached returns at once): on a first run they took about 270 s one after the other. Nothing is
measured while they run.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _declared(path: Path, name: str) -> Any:
    """The literal a script last assigns to ``name`` at module level, read from its source (``None`` if none)."""
    value = None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = None  # not a literal (import_100k.py's BENCH is first a folder, then True)
    return value


def suite() -> list[Path]:
    """The bench/*.py files with a module-level ``BENCH = True``."""
    return [path for path in sorted((ROOT / "bench").glob("*.py")) if _declared(path, "BENCH") is True]


def data_builds(scripts: list[Path]) -> list[tuple[float, list[str]]]:
    """The ``DATA_BUILDS`` declarations of ``scripts`` as (seconds, python arguments), the longest first."""
    builds: dict[tuple[str, ...], float] = {}  # two scripts reading the same data declare the same build
    for path in scripts:
        for entry in _declared(path, "DATA_BUILDS") or ():
            args = tuple(str(a) for a in entry["args"])
            builds[args] = max(builds.get(args, 0.0), float(entry["seconds"]))
    return sorted(((seconds, list(args)) for args, seconds in builds.items()), key=lambda build: -build[0])


def prepare(builds: list[tuple[float, list[str]]], workers: int) -> list[str]:
    """Run the data builds, ``workers`` at a time; returns a line per build (what it took, or why it failed).
    A failed build is only reported: its script then tries again, and reports its own failure."""

    def run(args: list[str]) -> str:
        begun = time.monotonic()
        done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
        took = f"{time.monotonic() - begun:.0f} s"
        if done.returncode != 0:
            return f"- `{' '.join(args)}`: FAILED (exit {done.returncode}) after {took}: {done.stderr[-500:].strip()}"
        return f"- `{' '.join(args)}`: {took}"

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(run, [args for _, args in builds]))


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return [f"- CPU: {cpu}, {os.cpu_count()} cores (shared by the servers and the load generator); "
            f"RAM {memory:,} MiB", f"- {platform.platform()}; Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}", f"- commit `{commit.stdout.strip() or '?'}`"]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one script (its file name without .py)")
    parser.add_argument("--budget", type=int, default=600, help="seconds allowed per script")
    args = parser.parse_args()
    scripts = [p for p in suite() if not args.only or p.stem == args.only]
    RESULTS.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date().isoformat()
    target = RESULTS / f"{today}.md"
    started = time.monotonic()
    sections = [f"# Benchmarks, {today}", "", *machine(),
                f"- load average (1/5/15 min) at the start: {load_average()}", ""]
    builds = data_builds(scripts)
    if builds:
        print(f"== the cached data ({len(builds)} builds, {os.cpu_count() or 1} at a time)", flush=True)
        begun = time.monotonic()
        lines = prepare(builds, os.cpu_count() or 1)
        print("\n".join(lines), flush=True)
        sections += [f"The cached data (`bench/.data/`), built before the measurements, {os.cpu_count() or 1} at a "
                     f"time: {time.monotonic() - begun:.0f} s.", "", *lines, "",
                     f"Load average after the builds: {load_average()}.", ""]
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        begun = time.monotonic()
        try:
            done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                                  timeout=args.budget, env={**os.environ, "SIPAS_BENCH_OUT": str(RESULTS)})
            output, failed = done.stdout, done.returncode != 0
            if failed:
                output += f"\n> `{script.name}` FAILED (exit {done.returncode}):\n\n```\n{done.stderr[-3000:]}\n```\n"
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            output += f"\n> `{script.name}` did not finish within {args.budget} s.\n"
        print(output, flush=True)
        sections += [output.rstrip(), "", f"_{script.name}: {time.monotonic() - begun:.0f} s_", ""]
    sections += [f"Load average at the end: {load_average()}; total {time.monotonic() - started:.0f} s.", ""]
    target.write_text("\n".join(sections), encoding="utf-8")
    print(f"written: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
