"""Issue 14, goal 4: 100,000 dossier rows (XLSX) imported in < 60 s with flat memory.

Builds 10,000- and 100,000-row exports (the generator of ``bench/import_10k.py``), then for each size, each in a
fresh child process on a fresh database: the import as the console and the CLI run it (stream the sheet, check
and stage in batches of 500, one swap), and the baseline, a plain ``executemany`` of the same rows into the same
``dossier`` table. Prints wall time, rows/s and the child's peak RSS (``ru_maxrss``), and the ratios.

    .venv/bin/python bench/import_100k.py                      # SQLite files in a temporary folder
    .venv/bin/python bench/import_100k.py --rows 10000 100000 --database-url postgresql+psycopg://…/bench
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from import_10k import build_xlsx  # noqa: E402

GOAL_SECONDS = 60.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _database(url: str, scratch: Path):  # type: ignore[no-untyped-def]
    from sipas.settings import Settings
    from sipas.storage import Database

    return Database(Settings.from_env({}, database_url=url, secret_key="bench", instance_dir=scratch))


def child_import(url: str, path: Path, scratch: Path) -> dict[str, float]:
    from sipas.imports import import_dossiers
    from sipas.settings import Settings
    from sipas.units import get_unit

    database = _database(url, scratch)
    data = path.read_bytes()
    swap: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    with database.session() as session:
        report = import_dossiers(session, get_unit(session, "BENCH"), data, path.name,
                                 tz=Settings.from_env({}, database_url=url).tz, now=datetime.now(UTC),
                                 secret="bench", actor="bench",
                                 progress=lambda done, total: swap.append(time.perf_counter()) if total else None)
    ended = time.perf_counter()
    assert report.ok and report.written, report.summary_vi()
    return {"seconds": ended - started, "cpu_seconds": time.process_time() - cpu, "swap_seconds": ended - swap[0],
            "rows": report.created + report.updated, "peak_mb": _peak_mb()}


def child_baseline(url: str, path: Path, scratch: Path) -> dict[str, float]:
    """The same rows, already typed, in one ``executemany`` per 500 rows (what any loader must at least do)."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from sipas.models import Dossier, IntakeChannel, Unit

    database = _database(url, scratch)
    rows = int(path.stem.split("-")[-1])
    with Session(database.engine) as session:
        unit_id = session.query(Unit.id).filter(Unit.code == "BENCH").scalar()
    now = datetime.now(UTC)
    values = [{"unit_id": unit_id, "code": f"BASE-{n:06d}", "procedure": "Đăng ký khai sinh", "field": "Hộ tịch",
               "intake_channel": IntakeChannel.DIRECT, "received_at": now, "due_at": now, "returned_at": now,
               "received_local_date": now.date(), "due_local_date": now.date(), "returned_local_date": now.date(),
               "created_at": now, "updated_at": now} for n in range(rows)]
    started, cpu = time.perf_counter(), time.process_time()
    with database.engine.begin() as connection:
        for start in range(0, rows, 500):
            connection.execute(insert(Dossier.__table__), values[start:start + 500])
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "rows": rows,
            "peak_mb": _peak_mb()}


def _run_child(kind: str, url: str, path: Path, scratch: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--database-url", url, "--file", str(path),
                          "--scratch", str(scratch)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_database(url: str | None, scratch: Path, name: str) -> str:
    from sipas.migrate import upgrade
    from sipas.units import create_unit

    if url is None:
        url = f"sqlite:///{scratch}/{name}.db"
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as connection:  # a reused PostgreSQL database: empty the tables this bench fills
            for table in ("dossier_contact", "dossier_staging", "dossier", "audit_event"):
                connection.execute(text(f"DELETE FROM {table}")) if _has(connection, table) else None
        engine.dispose()
    upgrade(url)
    database = _database(url, scratch)
    with database.session() as session:
        from sipas.models import Unit

        if session.query(Unit).filter(Unit.code == "BENCH").first() is None:
            create_unit(session, code="BENCH", name="Phường Đo Thử", actor="bench")
    database.dispose()
    return url


def _has(connection, table: str) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    return inspect(connection).has_table(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    parser.add_argument("--child", choices=("import", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_import if args.child == "import" else child_baseline
        print(json.dumps(run(args.database_url, args.file, args.scratch)))
        return
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        for rows in args.rows:
            started = time.perf_counter()
            path = scratch / f"export-{rows}.xlsx"
            path.write_bytes(build_xlsx(rows))
            built = time.perf_counter() - started
            print(f"{rows:,} rows: {path.stat().st_size / 1e6:.1f} MB XLSX built in {built:.1f} s")
            base = _run_child("baseline", _fresh_database(args.database_url, scratch, f"base{rows}"), path, scratch)
            url = _fresh_database(args.database_url, scratch, f"import{rows}")
            result = _run_child("import", url, path, scratch)
            verdict = "holds" if rows < 100_000 or result["seconds"] < GOAL_SECONDS else "MISSED"
            print(f"  import:   {result['seconds']:7.1f} s ({result['cpu_seconds']:.1f} s CPU)  "
                  f"{rows / result['seconds']:8,.0f} rows/s  peak RSS {result['peak_mb']:6.0f} MB  "
                  f"(swap transaction {result['swap_seconds']:.2f} s)")
            print(f"  baseline: {base['seconds']:7.1f} s ({base['cpu_seconds']:.1f} s CPU)  "
                  f"{rows / base['seconds']:8,.0f} rows/s  peak RSS {base['peak_mb']:6.0f} MB  "
                  "(plain executemany of the same rows)")
            print(f"  ratio import/baseline: time {result['seconds'] / base['seconds']:.1f}x, "
                  f"peak RSS {result['peak_mb'] / base['peak_mb']:.2f}x; goal < {GOAL_SECONDS:.0f} s for 100,000 "
                  f"rows: {verdict}")


if __name__ == "__main__":
    main()
