"""Report and ranking times at 10 k, 100 k and 1 M responses (issue 14, goal 2), each against its floor.

    .venv/bin/python bench/reports_scale.py                 # SQLite, sizes 10000 100000 1000000 (make bench)
    .venv/bin/python bench/reports_scale.py --sizes 10000 100000 --postgres   # also a throwaway PostgreSQL

Data: ``bench.generate`` (seeded, cached in bench/.data/). Every size is measured in its own child process
(so its peak memory is its own): the province quarter report (``sipas report --unit T46``), the province
ranking (``sipas report --district T46``), a district of 15 wards and one ward, each the median of 3 runs
after a warm-up. Two floors, measured in the same process:

- *raw floor*: one hand-written ``JOIN … GROUP BY criterion, option`` over the raw answers of the scope
  (today's layout: what any report had to do at least before the tallies);
- *tally floor*: one hand-written ``GROUP BY criterion, option`` over the month rows of ``answer_tally``.

Printed: each time, report ÷ raw floor and report ÷ tally floor, the slope (time ratio ÷ size ratio from
one size to the next), and the peak RSS of the child.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.generate import TZ, build, sqlite_database  # noqa: E402
from bench.memory import peak_rss_mb  # noqa: E402

BENCH = True  # part of `make bench` (bench/run.py): SQLite at 10 k, 100 k and 1 M (data built once, cached)

SIZES = (10_000, 100_000, 1_000_000)
#: The cached data, built by `make bench` before anything is measured (bench/run.py), the longest first; "seconds":
#: about how long a first build takes here.
DATA_BUILDS = [{"seconds": 150, "args": ["-m", "bench.generate", "1000000"]},
               {"seconds": 20, "args": ["-m", "bench.generate", "100000"]},
               {"seconds": 3, "args": ["-m", "bench.generate", "10000"]}]
NOW = datetime(2026, 4, 15, 3, 0, tzinfo=UTC)
RAW_FLOOR = """SELECT a.criterion_code, a.option_code, count(*) FROM answer a JOIN response r ON r.id = a.response_id
WHERE r.unit_id IN ({units}) AND r.submitted_at >= :start AND r.submitted_at < :end GROUP BY 1, 2"""
TALLY_FLOOR = """SELECT t.criterion_code, t.option_code, sum(t.answers) FROM answer_tally t
WHERE t.unit_id IN ({units}) AND t.grain = 'month' AND t.local_date IN (:m1, :m2, :m3) GROUP BY 1, 2"""


REPEAT = 5


def timings(run: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """(median, min, max) in seconds of ``repeat`` timed runs after a warm-up (page cache and statement cache,
    as on a server that has been up); also used by ``bench/report_history.py``."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def spread(median: float, low: float, high: float) -> str:
    """A timing as the results print it: ``median (min–max)``."""
    return f"{median:.3f} ({low:.3f}–{high:.3f})"


def _median(result: dict[str, Any], key: str, run: Callable[[], Any]) -> None:
    """``result[key]`` = the median of REPEAT timed runs, ``result[key + "_range"]`` = (min, max)."""
    median, low, high = timings(run, REPEAT)
    result[key], result[f"{key}_range"] = median, (low, high)


def _cell(figures: dict[str, Any], key: str) -> str:
    return spread(figures[key], *figures[f"{key}_range"])


def measure(url: str) -> dict[str, Any]:
    """Times in seconds for one database (runs in the child process)."""
    from aggregator.service import district_ranking, unit_report
    from sipas.catalogue import load_catalogue
    from sipas.clock import Period
    from sipas.settings import DEFAULT_CONFIG_DIR
    from sipas.units import descendants, get_unit

    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    period = Period.quarter(2026, 1)
    start, end = period.utc_bounds(TZ)
    engine = create_engine(url)
    result: dict[str, Any] = {}
    with Session(engine) as session:
        scopes = {"province": get_unit(session, "T46"), "district": get_unit(session, "T46-H01"),
                  "ward": get_unit(session, "T46-H01-X01")}
        for name, unit in scopes.items():
            assert unit is not None
            ids = ",".join(str(u.id) for u in descendants(session, unit))
            params = {"start": start.replace(tzinfo=None) if engine.dialect.name == "sqlite" else start,
                      "end": end.replace(tzinfo=None) if engine.dialect.name == "sqlite" else end,
                      "m1": date(2026, 1, 1), "m2": date(2026, 2, 1), "m3": date(2026, 3, 1)}
            _median(result, f"{name}_report",
                    lambda unit=unit: unit_report(session, catalogue, unit, period, tz=TZ, now=NOW))
            _median(result, f"{name}_raw_floor",
                    lambda ids=ids, params=params: session.execute(text(RAW_FLOOR.format(units=ids)), params).all())
            _median(result, f"{name}_tally_floor",
                    lambda ids=ids, params=params: session.execute(text(TALLY_FLOOR.format(units=ids)), params).all())
        _median(result, "province_ranking",
                lambda: district_ranking(session, catalogue, scopes["province"], period, tz=TZ, now=NOW))
        result["responses"] = unit_report(session, catalogue, scopes["province"], period, tz=TZ, now=NOW)["responses"]
    engine.dispose()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def _child(url: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.reports_scale", "--repeat", str(REPEAT), "--measure", url],
                         capture_output=True, text=True, check=True, timeout=1800, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _goals(backend: str, figures: dict[int, dict[str, Any]]) -> None:
    """Each point of goal 2 that these figures decide, and whether it holds."""
    limit = 2.0 if backend == "SQLite" else 1.0
    largest = figures[max(figures)]
    both = largest["province_report"] + largest["province_ranking"]
    ward = max(f["ward_report"] for f in figures.values())
    raw = {size: f["province_report"] / f["province_raw_floor"] for size, f in figures.items()}
    tally = {size: f["province_report"] / f["province_tally_floor"] for size, f in figures.items()}
    memory = max(f["peak_rss_mb"] for f in figures.values())

    def verdict(ok: bool) -> str:
        return "holds" if ok else "**missed**"

    print(f"\nGoal 2 on {backend}:")
    print(f"- a ward quarter < 100 ms: at most {ward * 1000:.0f} ms: {verdict(ward < 0.1)}")
    print(f"- the province quarter with its ranking at {max(figures):,} responses < {limit:.0f} s: {both:.3f} s: "
          f"{verdict(both < limit)}")
    print("- the province report faster than the raw floor: " + ", ".join(
        f"{size:,}: ×{ratio:.2f}" for size, ratio in raw.items()) + f": {verdict(all(r < 1 for r in raw.values()))}")
    print("- within 1.5× of the tally floor: " + ", ".join(
        f"{size:,}: ×{ratio:.1f}" for size, ratio in tally.items()) +
          f": {verdict(all(r <= 1.5 for r in tally.values()))}")
    print(f"- memory < 300 MB: at most {memory:.0f} MB: {verdict(memory < 300)}")


def _table(backend: str, figures: dict[int, dict[str, Any]]) -> None:
    print(f"\n### {backend}")
    print("| responses | scope | report s (min–max) | raw floor s (min–max) | ÷ raw floor | tally floor s (min–max) "
          "| ÷ tally floor |")
    print("|---|---|---|---|---|---|---|")
    for size, f in figures.items():
        for scope in ("ward", "district", "province"):
            report, raw, tally = f[f"{scope}_report"], f[f"{scope}_raw_floor"], f[f"{scope}_tally_floor"]
            print(f"| {size:,} | {scope} | {_cell(f, f'{scope}_report')} | {_cell(f, f'{scope}_raw_floor')} | "
                  f"{report / raw:.2f} | {_cell(f, f'{scope}_tally_floor')} | {report / tally:.1f} |")
        both = f["province_report"] + f["province_ranking"]
        print(f"| {size:,} | province ranking | {_cell(f, 'province_ranking')} | | | | |")
        print(f"| {size:,} | province report + ranking | {both:.3f} | {f['province_raw_floor']:.3f} | "
              f"{both / f['province_raw_floor']:.2f} | | |")
    print()
    sizes = list(figures)
    for a, b in itertools.pairwise(sizes):
        for key in ("province_report", "province_ranking", "province_raw_floor"):
            ratio = figures[b][key] / figures[a][key]
            print(f"- slope {key} {a:,} → {b:,}: ×{ratio:.2f} time for ×{b / a:.0f} responses "
                  f"(exponent {math.log(ratio) / math.log(b / a):.2f})")
    print("- peak RSS MB: " + ", ".join(f"{s:,}: {f['peak_rss_mb']:.0f}" for s, f in figures.items()))
    _goals(backend, figures)


def main() -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL cluster")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="timed runs per figure (median), after a warm-up")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    REPEAT = args.repeat
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print("## Reports (goal 2)\n")
    print("`bench/reports_scale.py`: the province of `bench/generate.py` (135 wards, Q1 2026 of hue12, built once and "
          "cached in `bench/.data/`); each size in its own process, median of "
          f"{REPEAT} after a warm-up; the raw floor is one hand-written `JOIN … GROUP BY criterion, option` over the "
          "raw answers, the tally floor the same over the month rows of `answer_tally`.")
    _table("SQLite", {size: _child(sqlite_database(size)) for size in args.sizes})
    if args.postgres:
        from tests.pgcluster import PostgresCluster

        cluster = PostgresCluster()
        try:
            server = cluster.start()
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            figures = {}
            for size in args.sizes:
                with admin.connect() as connection:
                    connection.execute(text(f"CREATE DATABASE bench_{size}"))
                url = server.rsplit("/", 1)[0] + f"/bench_{size}"
                started = time.perf_counter()
                build(url, size)
                print(f"PostgreSQL: generated {size:,} responses in {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
                figures[size] = _child(url)
            admin.dispose()
            _table("PostgreSQL", figures)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
