"""The province's Biểu II.06a figures for Q1 2026 after 1, 4 and 10 years of dossiers (issue 14, goal 2).

    .venv/bin/python bench/report_history.py               # SQLite, histories of 1, 4 and 10 years (make bench)
    .venv/bin/python bench/report_history.py --years 1 10

Every figure of the dossier table (carried over, in progress, overdue …) counts the dossier events *before* a
day since the first dossier (``aggregator.dossier_figures``), so what a report reads could grow with every
month the office runs. Data: the province of ``bench.generate`` (135 wards), 30 dossiers per ward and month
over the history ending 2026-03-31 (received on a random day, due 1–10 days later, returned within 0–10 days
or, 2 %, never; rated once or twice, 6 % of them with a dissatisfied answer), cached in ``bench/.data/``; the
events are rebuilt from the dossiers by ``sipas.dossier_events.rebuild_events``. Timed, median of 5 after a
warm-up, in one process per history:

- the province's figures by field (the report) and by unit (the ranking), through ``aggregator.queries``;
- *month rows only*: the one statement the reader ran before the year rows (``core_0022``), every month row
  since the first dossier: what the read cost would be without them;
- *per-dossier recount*: the straight definition over the dossier rows (``Scope.recount``).

Each run checks that the figures equal the per-dossier recount, all but the three a dossier's ratings decide
(rated, rated on several forms, dissatisfied or late): the generated dossiers carry their rating counts, which
the events read, without response rows, which the recount reads (``tests/aggregator`` checks those three).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.generate import DATA, FIELDS, INTAKE, TZ, VERSION, _units, bulk_engine, close_bulk_engine  # noqa: E402
from bench.reports_scale import spread, timings  # noqa: E402

BENCH = True  # part of `make bench` (bench/run.py)

YEARS = (1, 4, 10)
#: The cached data, built by `make bench` before anything is measured (bench/run.py); "seconds": about how long a
#: first build takes here.
DATA_BUILDS = [{"seconds": 25, "args": ["bench/report_history.py", "--prepare", "--years", "10"]},
               {"seconds": 10, "args": ["bench/report_history.py", "--prepare", "--years", "4"]},
               {"seconds": 3, "args": ["bench/report_history.py", "--prepare", "--years", "1"]}]
PER_WARD_MONTH = 30
LAST_DAY = date(2026, 3, 31)
NOW = datetime(2026, 4, 15, 3, 0, tzinfo=UTC)
MONTH_ROWS_ONLY = """SELECT field, kind, online, negative, forms, handling,
 SUM(CASE WHEN kind IN ('received', 'returned') AND local_date < '2026-01-01' THEN dossiers ELSE 0 END),
 SUM(CASE WHEN kind IN ('received', 'returned') AND local_date < '2026-04-01' THEN dossiers ELSE 0 END),
 SUM(CASE WHEN kind = 'due' AND local_date < '2026-04-01' THEN dossiers ELSE 0 END),
 SUM(CASE WHEN kind = 'cleared' AND local_date < '2026-04-01' THEN dossiers ELSE 0 END)
FROM dossier_event_tally WHERE unit_id IN ({units}) AND grain = 'month' AND local_date < '2026-04-01'
GROUP BY field, kind, online, negative, forms, handling"""


def database(years: int) -> Path:
    """The cached SQLite database with ``years`` of dossiers (built on first use)."""
    path = DATA / f"history-{years}y-v{VERSION}.sqlite3"
    if path.exists():
        return path
    from sipas.dossier_events import drop_triggers, install_triggers, rebuild_events
    from sipas.migrate import upgrade

    DATA.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".partial")
    scratch.unlink(missing_ok=True)
    url = f"sqlite:///{scratch}"
    upgrade(url)
    wards = _units(url)
    rng = random.Random(years)
    columns = ("unit_id", "code", "procedure", "field", "intake_channel", "received_at", "due_at", "returned_at",
               "received_local_date", "due_local_date", "returned_local_date", "responses", "negative_responses",
               "created_at", "updated_at")
    insert = f"INSERT INTO dossier ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    engine = bulk_engine(url)
    with engine.begin() as connection:
        drop_triggers(connection)
        raw = connection.connection.driver_connection
        after = LAST_DAY + timedelta(days=1)
        month, n = after.replace(year=after.year - years), 0
        while month <= LAST_DAY:
            days = ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - month).days
            batch = []
            for unit in wards:
                for _ in range(PER_WARD_MONTH):
                    n += 1
                    received = month + timedelta(days=rng.randrange(days))
                    due = received + timedelta(days=rng.randint(1, 10))
                    returned = None if rng.random() < 0.02 else received + timedelta(days=rng.randint(0, 10))
                    responses = 0 if returned is None or rng.random() < 0.1 else rng.choice((1, 1, 1, 2))
                    negative = 1 if responses and rng.random() < 0.06 else 0
                    stamp = f"{received.isoformat()} 02:00:00.000000"
                    batch.append((unit, f"HS-{n:09d}", "Thủ tục", rng.choice(FIELDS), rng.choice(INTAKE), stamp,
                                  f"{due.isoformat()} 02:00:00.000000",
                                  None if returned is None else f"{returned.isoformat()} 09:00:00.000000",
                                  received.isoformat(), due.isoformat(),
                                  None if returned is None else returned.isoformat(), responses, negative,
                                  stamp, stamp))
            raw.executemany(insert, batch)  # type: ignore[union-attr]
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        rebuild_events(connection)
        install_triggers(connection)
    close_bulk_engine(engine)
    scratch.rename(path)
    return path


def _median(run: Callable[[], Any]) -> tuple[float, float, float]:
    return timings(run, 5)


def _cell(timing: list[float]) -> str:
    return spread(*timing)


# the dossiers carry rating counts (what the events read) but no response rows, which the recount reads
FROM_RATINGS = ("rated", "rated_on_several_forms", "unsatisfied_or_late")


def _comparable(figures: Any) -> Any:
    rows = figures.values() if isinstance(figures, dict) else figures
    return [{k: v for k, v in row.items() if k not in FROM_RATINGS} for row in rows]


def measure(url: str) -> dict[str, Any]:
    """Times in seconds and rows per grain for one history (runs in the child process)."""
    from aggregator.queries import dossiers_by_field, dossiers_by_unit
    from aggregator.report import make_scope
    from sipas.clock import Period
    from sipas.units import descendants, get_unit

    engine = create_engine(url)
    period = Period.quarter(2026, 1)
    with Session(engine) as session:
        province = get_unit(session, "T46")
        assert province is not None
        units = descendants(session, province)
        scope = make_scope(units, period, tz=TZ, now=NOW)
        recount = make_scope(units, period, tz=TZ, now=NOW, recount=True)
        ids = ",".join(str(u.id) for u in units)
        for read in (dossiers_by_field, dossiers_by_unit):
            assert _comparable(read(session, scope, [])) == _comparable(read(session, recount, []))
        result = {
            "dossiers": session.scalar(text("SELECT COUNT(*) FROM dossier")),
            "rows": dict(session.execute(text("SELECT grain, COUNT(*) FROM dossier_event_tally GROUP BY grain")).all()),
            "by_field": _median(lambda: dossiers_by_field(session, scope, [])),
            "by_unit": _median(lambda: dossiers_by_unit(session, scope, [])),
            "month_rows_only": _median(lambda: session.execute(text(MONTH_ROWS_ONLY.format(units=ids))).all()),
            "recount": _median(lambda: dossiers_by_field(session, recount, [])),
        }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs="+", default=list(YEARS))
    parser.add_argument("--prepare", action="store_true", help="only build the cached data of these histories")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.prepare:
        for years in args.years:
            print(database(years))
        return
    figures = {}
    for years in args.years:
        started = time.perf_counter()
        path = database(years)
        print(f"{years} years: data ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        out = subprocess.run([sys.executable, "-m", "bench.report_history", "--measure", f"sqlite:///{path}"],
                             capture_output=True, text=True, check=True, timeout=1800, cwd=ROOT)
        figures[years] = json.loads(out.stdout.strip().splitlines()[-1])
    print("## Dossier figures after years of history (goal 2)\n")
    print("`bench/report_history.py`: the province's Biểu II.06a figures for Q1 2026 (by field for the report, by "
          f"unit for the ranking) after 1 to 10 years of dossiers ({PER_WARD_MONTH} per ward and month), median of 5 "
          "(min–max); *month rows only* is the statement the reader ran before the year rows (`core_0022`).\n")
    print("| history | dossiers | event rows (day / month / year) | by field s | by unit s | month rows only s | "
          "per-dossier recount s |")
    print("|---|---|---|---|---|---|---|")
    for years, f in figures.items():
        rows = f["rows"]
        label = f"{years} year{'s' if years != 1 else ''}"
        print(f"| {label} | {f['dossiers']:,} | {rows.get('day', 0):,} / {rows.get('month', 0):,} / "
              f"{rows.get('year', 0):,} | {_cell(f['by_field'])} | {_cell(f['by_unit'])} | "
              f"{_cell(f['month_rows_only'])} | {_cell(f['recount'])} |")
    print()
    low, high = min(figures), max(figures)
    for key in ("by_field", "by_unit", "month_rows_only", "recount"):
        print(f"- {key}: ×{figures[high][key][0] / figures[low][key][0]:.2f} from {low} to {high} years of history")
    print("- figures equal the per-dossier recount (all but the three from ratings): yes, checked in every run")


if __name__ == "__main__":
    main()
