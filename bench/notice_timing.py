"""Notice of one ward for a quarter (issue 14, goal 3): DOCX < 1 s, PDF < 5 s, and where the time goes.

    .venv/bin/python -m bench.notice_timing              # the 10 000-response province of bench.generate

Each step in a fresh child process, as a worker would meet it (cold: imports and first chart included),
then warm in the same process (median of 5): the report, the view-model, the DOCX (and within it the
charts drawn by CairoSVG and python-docx's document), and the PDF by LibreOffice (cold: a new profile
folder; warm: the converter already used once; the PDF cache is bypassed so every run converts).
Baseline in the same run: python-docx writing an empty document, and LibreOffice converting that.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = True  # part of `make bench` (bench/run.py)
#: The 10,000-response province, built by `make bench` before anything is measured (bench/run.py)
DATA_BUILDS = [{"seconds": 3, "args": ["-m", "bench.generate", "10000"]}]
NOTICE_UNIT = "T46-H01-X01"
ROOT = Path(__file__).resolve().parents[1]
#: Each of the two children (fresh, and as a started worker) must end within this; together within run.py's budget.
CHILD_TIMEOUT_SECONDS = 280


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def measure(started: bool = False) -> dict[str, float]:
    """Runs in the child: cold times first, then warm medians. ``started``: as a server worker after its
    start-up (``aggregator.notices.init_app`` draws a chart once), so the first DOCX is the worker's first."""
    result: dict[str, float] = {}
    result["import_s"], _ = _timed(lambda: __import__("aggregator.notices.service"))
    if started:
        from aggregator.notices.chart_png import warm_up

        result["warm_up_s"], _ = _timed(warm_up)
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from aggregator.notices import chart_png, service
    from aggregator.notices.docx_render import render_docx
    from aggregator.notices.pdf_render import _convert, soffice_binary
    from bench.generate import sqlite_database
    from bench.scratch import scratch_folder
    from sipas.catalogue import load_catalogue
    from sipas.clock import Period
    from sipas.settings import DEFAULT_CONFIG_DIR, Settings
    from sipas.units import get_unit

    settings = Settings.from_env({}, database_url=sqlite_database(10_000),
                                 instance_dir=scratch_folder("sipas-bench-notice-"), secret_key="bench")
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    now = datetime(2026, 4, 15, 3, 0, tzinfo=UTC)
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        unit = get_unit(session, NOTICE_UNIT)
        period = Period.quarter(2026, 1)

        def report() -> dict[str, Any]:
            return service.compute_report(session, catalogue, unit, period, settings=settings, now=now)

        def view() -> Any:
            return service.notice_view(session, unit, report(), settings=settings, number=None,
                                       issue_date=period.end)

        result["report_cold_s"], _report = _timed(report)
        result["view_cold_s"], notice_view = _timed(view)
        result["docx_cold_s"], docx = _timed(lambda: render_docx(notice_view))
        result["docx_bytes"] = len(docx)
        soffice = soffice_binary({})
        result["pdf_cold_s"], _pdf = _timed(lambda: _convert(docx, soffice=soffice, timeout=120))
        warm = {"report_s": report, "view_s": view, "docx_s": lambda: render_docx(notice_view)}
        for name, fn in warm.items():
            result[name] = statistics.median(_timed(fn)[0] for _ in range(5))
        chart_png.chart_png.cache_clear()
        result["docx_uncached_charts_s"] = statistics.median(
            _timed(lambda: (chart_png.chart_png.cache_clear(), render_docx(notice_view)))[0] for _ in range(5))
        result["pdf_s"] = statistics.median(_timed(lambda: _convert(docx, soffice=soffice, timeout=120))[0]
                                            for _ in range(3))
        from docx import Document

        def empty_docx() -> bytes:
            import io

            out = io.BytesIO()
            Document().save(out)
            return out.getvalue()

        result["baseline_empty_docx_s"] = statistics.median(_timed(empty_docx)[0] for _ in range(5))
        empty = empty_docx()
        result["baseline_empty_pdf_s"] = statistics.median(
            _timed(lambda: _convert(empty, soffice=soffice, timeout=120))[0] for _ in range(3))
    engine.dispose()
    return result


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(measure(started="--started" in sys.argv)))
        return
    runs = []
    for extra in ([], ["--started"]):
        out = subprocess.run([sys.executable, "-m", "bench.notice_timing", "--measure", *extra], capture_output=True,
                             text=True, timeout=CHILD_TIMEOUT_SECONDS, cwd=ROOT)
        if out.returncode:
            sys.exit(out.stderr[-3000:])
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    f, started = runs
    print("## Notice (goal 3)\n")
    print(f"One ward ({NOTICE_UNIT}) of the 10,000-response province, Q1 2026; cold in a fresh process, warm the "
          "median of 5 (PDF: of 3); baselines in the same run.\n")
    print("| step | cold s | warm s (median) | goal |")
    print("|---|---|---|---|")
    print(f"| import aggregator.notices | {f['import_s']:.3f} | | |")
    print(f"| report (one ward, quarter) | {f['report_cold_s']:.3f} | {f['report_s']:.3f} | |")
    print(f"| view-model (report included) | {f['view_cold_s']:.3f} | {f['view_s']:.3f} | |")
    print(f"| DOCX | {f['docx_cold_s']:.3f} | {f['docx_s']:.3f} (charts redrawn: {f['docx_uncached_charts_s']:.3f}) "
          f"| < 1 s: {'met' if f['view_cold_s'] + f['docx_cold_s'] < 1 else 'MISSED'} (cold, report included) |")
    first = started["view_cold_s"] + started["docx_cold_s"]
    print(f"| first DOCX of a started worker (after its {started['warm_up_s']:.3f} s start-up drawing) | "
          f"{started['docx_cold_s']:.3f} | | < 1 s: {'met' if first < 1 else 'MISSED'} "
          f"(report included: {first:.3f}) |")
    print(f"| PDF (LibreOffice) | {f['pdf_cold_s']:.3f} | {f['pdf_s']:.3f} | < 5 s: "
          f"{'met' if f['pdf_cold_s'] < 5 else 'MISSED'} (cold) |")
    print(f"| baseline: empty python-docx document | | {f['baseline_empty_docx_s']:.3f} | |")
    print(f"| baseline: LibreOffice on the empty document | | {f['baseline_empty_pdf_s']:.3f} | |")
    print(f"ratios: DOCX ÷ empty DOCX {f['docx_s'] / f['baseline_empty_docx_s']:.1f}; "
          f"PDF ÷ empty PDF {f['pdf_s'] / f['baseline_empty_pdf_s']:.2f}; DOCX size {f['docx_bytes']:,.0f} bytes\n")


if __name__ == "__main__":
    main()
