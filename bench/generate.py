"""Seeded province data for the report benchmarks: 1 province, 9 districts of 15 wards, Q1 2026 of ``hue12``.

    .venv/bin/python -m bench.generate 100000                  # SQLite, cached in bench/.data/
    .venv/bin/python -m bench.generate 100000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

``n`` responses (one per rated dossier, 12 answers each, ~6 % with a "Không hài lòng", 8 % with a comment),
1.1 × n dossiers (some carried over, some unrated, some still in progress), spread unevenly over the 135
wards. The SQLite database is built once per size and kept in ``bench/.data/`` (gitignored); a PostgreSQL
database is filled with COPY. Rows go in through the driver (the ORM would take an hour at 1 M), then the
tallies are built by ``sipas.tally.rebuild``, the same code the migration runs (the triggers that keep the
dossier events are dropped during the bulk load and the rebuild, and the events rebuilt with the rest).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from sipas import code_search
from sipas.catalogue import load_catalogue
from sipas.dossier_events import drop_triggers, install_triggers
from sipas.migrate import upgrade
from sipas.models import UnitKind
from sipas.settings import DEFAULT_CONFIG_DIR
from sipas.tally import rebuild
from sipas.units import create_unit

VERSION = 10  # bump when the generated data changes: the cache file names carry it
DATA = Path(__file__).resolve().parent / ".data"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
QUARTER_START = date(2026, 1, 1)
DAYS = 90
DISTRICTS, WARDS = 9, 15
FIELDS = ("Hộ tịch", "Chứng thực", "Đất đai", "Lao động - TBXH", "Tư pháp")
CHANNELS = ("kiosk",) * 6 + ("qr", "sms", "sms", "paper", "api")
INTAKE = ("direct",) * 6 + ("online_partial", "online_full", "postal")
SEED = 20261204
BULK_CACHE_KIB = 256 * 1024  # SQLite's page cache during the build (its sorter spills to disk beyond it)
COMMENTS = ("Cán bộ hướng dẫn tận tình.", "Phải chờ lâu.", "Thủ tục nhanh gọn.", "Cần thêm ghế ngồi chờ.")


def sqlite_path(responses: int) -> Path:
    return DATA / f"province-{responses}-v{VERSION}.sqlite3"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")


def _units(url: str) -> list[int]:
    """The units through the product's own code; returns the ward ids."""
    engine = create_engine(url)
    wards = []
    with Session(engine) as session:
        province = create_unit(session, code="T46", name="Tỉnh Thừa Thiên Huế", kind=UnitKind.PROVINCE,
                               actor="bench")
        for d in range(1, DISTRICTS + 1):
            district = create_unit(session, code=f"T46-H{d:02d}", name=f"Quận {d}", kind=UnitKind.DISTRICT,
                                   parent=province, actor="bench")
            for w in range(1, WARDS + 1):
                ward = create_unit(session, code=f"T46-H{d:02d}-X{w:02d}", name=f"Phường {d}.{w}", parent=district,
                                   actor="bench")
                session.flush()
                wards.append(ward.id)
        session.commit()
    engine.dispose()
    return wards


def rows(responses: int, wards: list[int]) -> Iterator[tuple[str, tuple[object, ...]]]:
    """("dossier" | "response" | "answer", row) in insertion order; the same for the same size."""
    rng = random.Random(SEED)
    criteria = load_catalogue(DEFAULT_CONFIG_DIR).version("hue12", "2018.1").citizen_criteria
    weights = [rng.uniform(0.3, 1.7) for _ in wards]
    choices = []
    for criterion in criteria:
        options = [o for o in criterion.options]
        pick = [(o.code, o.points) for o in options] + ([(None, None)] if criterion.allow_na else [])
        choices.append((criterion.code, pick))
    dossiers = int(responses * 1.1)
    start = datetime.combine(QUARTER_START, datetime.min.time(), TZ)
    response_id = 0
    for dossier_id in range(1, dossiers + 1):
        unit = rng.choices(wards, weights)[0]
        received = start + timedelta(days=rng.randrange(-10, DAYS), minutes=rng.randrange(7 * 60, 17 * 60))
        due = received + timedelta(days=rng.choice((1, 3, 5, 7, 10)))
        rated = response_id < responses and (dossiers - dossier_id < responses - response_id or rng.random() < 0.93)
        returned = received + timedelta(days=rng.randrange(0, 11), minutes=rng.randrange(0, 120))
        if not rated and rng.random() < 0.5:
            returned = None
        yield "dossier", (dossier_id, unit, f"000.00.{unit}.H57-{dossier_id:08d}", "Thủ tục", rng.choice(FIELDS),
                          rng.choice(INTAKE), _stamp(received), _stamp(due), _stamp(returned) if returned else None,
                          received.date().isoformat(), due.date().isoformat(),
                          returned.astimezone(TZ).date().isoformat() if returned else None,
                          _stamp(received), _stamp(received))
        if not rated or returned is None:
            continue
        response_id += 1
        submitted = returned + timedelta(minutes=rng.randrange(2, 600))
        channel = rng.choice(CHANNELS)
        comment = rng.choice(COMMENTS) if rng.random() < 0.08 else None
        yield "response", (response_id, unit, dossier_id if channel != "paper" else None, "hue12", "2018.1", channel,
                           _stamp(submitted), comment, None, None, False, _stamp(submitted))
        unhappy = rng.random() < 0.06
        for position, (code, pick) in enumerate(choices, start=1):
            r = rng.random()
            option, points = pick[0] if r < 0.45 else pick[1] if r < 0.93 or not unhappy else pick[2]
            if len(pick) > 3 and rng.random() < 0.03:
                option, points = pick[3]
            yield "answer", (response_id, code, position, option, points)


COLUMNS = {
    "dossier": ("id", "unit_id", "code", "procedure", "field", "intake_channel", "received_at", "due_at", "returned_at",
                "received_local_date", "due_local_date", "returned_local_date", "created_at", "updated_at"),
    "response": ("id", "unit_id", "dossier_id", "instrument_code", "instrument_version", "channel", "submitted_at",
                 "comment", "idempotency_key", "source", "flagged", "created_at"),
    "answer": ("response_id", "criterion_code", "position", "option_code", "points"),
}


def bulk_engine(url: str) -> Engine:
    """The engine the build writes with. SQLite: no journal and no syncs (the file is built under a scratch
    name and renamed when complete, so a crash loses nothing but the scratch file), and a page cache large
    enough that the tallies' big ``GROUP BY`` sorts stay in memory; the file is left in WAL mode, as the
    product uses it."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{BULK_CACHE_KIB}"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
    return engine


def close_bulk_engine(engine: Engine) -> None:
    """Leave the built SQLite file in WAL mode, as the product uses it, and close the engine."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode = WAL")
    engine.dispose()


Batch = dict[str, list[tuple[object, ...]]]


def batches(responses: int, wards: list[int], answers: int) -> Iterator[Batch]:
    """The rows of ``rows`` by table, about ``answers`` answers at a time (dossiers before their responses,
    responses before their answers when a batch is written table by table in ``COLUMNS`` order)."""
    batch: Batch = {name: [] for name in COLUMNS}
    for name, row in rows(responses, wards):
        batch[name].append(row)
        if len(batch["answer"]) >= answers:
            yield batch
            batch = {name: [] for name in COLUMNS}
    yield batch


def _produce(responses: int, wards: list[int], answers: int, out: Any) -> None:
    for batch in batches(responses, wards, answers):
        out.put(batch)
    out.put(None)


def produced(responses: int, wards: list[int], answers: int) -> Iterator[Batch]:
    """``batches``, generated in a second process while the caller writes the previous ones: the generator's
    Python (40 s at a million responses) and the database's inserts then share the two cores instead of taking
    turns."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=3)
    process = context.Process(target=_produce, args=(responses, wards, answers, queue), daemon=True)
    process.start()
    try:
        while True:
            try:
                batch = queue.get(timeout=5)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(f"the row generator exited (exit {process.exitcode})") from None
                continue
            if batch is None:
                break
            yield batch
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
            process.join()


def _fill_sqlite(engine: Engine, responses: int, wards: list[int]) -> None:
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        sql = {name: f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
               for name, cols in COLUMNS.items()}
        for batch in produced(responses, wards, 120_000):
            for name in COLUMNS:  # dossiers before their responses, responses before their answers
                raw.executemany(sql[name], batch[name])  # type: ignore[union-attr]


def _fill_postgres(engine: Engine, responses: int, wards: list[int]) -> None:
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for batch in produced(responses, wards, 240_000):
            for name, cols in COLUMNS.items():
                with cursor.copy(f'COPY "{name}" ({", ".join(cols)}) FROM STDIN') as copy:
                    for row in batch[name]:
                        copy.write_row(row)
        for name in ("dossier", "response", "answer"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                    f"(SELECT coalesce(max(id), 1) FROM \"{name}\"))"))
        connection.execute(text("ANALYZE"))


def build(url: str, responses: int) -> None:
    """Create the schema with the migrations, the units, the rows, then the tallies."""
    upgrade(url)
    wards = _units(url)
    engine = bulk_engine(url)
    with engine.begin() as connection:
        drop_triggers(connection)
        code_search.drop_triggers(connection)  # SQLite: the codes' trigrams filled at once after the load
    (_fill_postgres if engine.dialect.name == "postgresql" else _fill_sqlite)(engine, responses, wards)
    with engine.begin() as connection:
        # the triggers after the rebuild: its recount of every dossier's ratings would fire them row by row for
        # events it then rebuilds from scratch anyway (a third of the build time)
        rebuild(connection, load_catalogue(DEFAULT_CONFIG_DIR).dissatisfied_answers(), TZ)
        install_triggers(connection)
        code_search.rebuild(connection)
        code_search.install_triggers(connection)
        # the planner's statistics of the tallies just built, as autovacuum would gather them within a minute on a
        # server: without them PostgreSQL took the tallies for the empty tables ANALYZE saw after the fill, and
        # sorted the province's dossier events on disk (the report 267 ms instead of 155 ms at 1 M)
        connection.execute(text("ANALYZE"))
    close_bulk_engine(engine)


def sqlite_database(responses: int) -> str:
    """The cached SQLite database of that size (built on first use)."""
    path = sqlite_path(responses)
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".partial")
        scratch.unlink(missing_ok=True)
        started = time.perf_counter()
        build(f"sqlite:///{scratch}", responses)
        scratch.rename(path)
        print(f"generated {responses:,} responses in {time.perf_counter() - started:.0f} s: {path}", file=sys.stderr)
    return f"sqlite:///{path}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("responses", type=int, nargs="?", default=10_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: the cached SQLite file)")
    args = parser.parse_args()
    if args.database_url:
        build(args.database_url, args.responses)
        print(args.database_url)
    else:
        print(sqlite_database(args.responses))


if __name__ == "__main__":
    main()
