"""What a rating costs inside the database (issue 14, goal 1): its statements alone, without Flask or HTTP.

    .venv/bin/python bench/rating_db.py [--backend sqlite|postgresql] [--n 2000] [--reps 5]

The ward is seeded as ``bench/intake.py`` seeds it (``intake.seed``: 60,000 returned dossiers and an earlier
quarter of ratings; a throwaway PostgreSQL cluster from ``tests/pgcluster.py``). Each rating is one of the bench's
API ratings (quay4, its first options: satisfied) of a dossier not rated yet, written with the statements the app
sends (``sipas.responses``' own), its rows built before the clock starts.

SQLite, one transaction per rating: ``rows`` the response and its answers, ``tallies`` the answer and response
tally upserts, ``dossier`` the dossier's count update with the triggers it fires, ``commit``; then the same count
update with the dossier triggers dropped (``dossier bare``): their difference is what the triggers cost. Wall time
(``perf_counter``) per part, CPU (``process_time``) for all of it; median per rating with min and max over the
repetitions. PostgreSQL: ``EXPLAIN (ANALYZE)`` of the rating's one ``WITH`` (``sipas.rating_statement``) per
rating, the server's execution time split into its parts (the CTEs' own times, the dossier triggers') and its
planning time, and the wall time of the statement as the app sends it. Run by hand, not by ``make bench``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import intake  # noqa: E402


def _ratings(session: Any, n: int, offset: int, tz: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]], Any]]:
    from sqlalchemy import select

    from sipas.catalogue import load_catalogue
    from sipas.models import Dossier, ResponseChannel, Unit
    from sipas.responses import build_answers
    from sipas.settings import DEFAULT_CONFIG_DIR
    from sipas.tally import counts_of, is_follow_up, is_negative

    quay4 = load_catalogue(DEFAULT_CONFIG_DIR).current("quay4", date.today())
    answers = build_answers(quay4, {c.code: c.options[0].code for c in quay4.citizen_criteria})
    unit_id = session.scalar(select(Unit.id).where(Unit.code == intake.UNIT))
    codes = [f"B-{i:06d}" for i in range(offset, offset + n)]
    ids = dict(session.execute(select(Dossier.code, Dossier.id).where(Dossier.code.in_(codes))).all())
    now = datetime.now(UTC)
    made = []
    negative = is_negative(quay4, answers)
    for code in codes:
        values = {"unit_id": unit_id, "dossier_id": ids[code], "instrument_code": quay4.code,
                  "instrument_version": quay4.version, "channel": ResponseChannel.API, "submitted_at": now,
                  "comment": None, "idempotency_key": None, "source": None, "flagged": False,
                  "negative": negative, "follow_up": is_follow_up(negative, None), "created_at": now}
        rows = [{"criterion_code": a.criterion_code, "position": a.position, "option_code": a.option_code,
                 "points": a.points} for a in answers]
        made.append((values, rows, counts_of(values, answers, tz)))
    return made


def _sqlite_rep(database: Any, ratings: list[Any], bare: bool) -> dict[str, float]:
    from sipas.dossier_events import drop_triggers, install_triggers
    from sipas.responses import _INSERT_ANSWERS, _INSERT_RESPONSE
    from sipas.tally import _COUNT_DOSSIER, Counts, add_counts

    times = {"rows": 0.0, "tallies": 0.0, "dossier": 0.0, "commit": 0.0, "cpu": 0.0}
    if bare:
        with database.engine.begin() as connection:
            drop_triggers(connection)
    try:
        cpu = time.process_time()
        for values, rows, counts in ratings:
            with database.engine.connect() as connection:
                transaction = connection.begin()
                t0 = time.perf_counter()
                new_id = _INSERT_RESPONSE.returned(connection, values)[0]
                _INSERT_ANSWERS.executemany(connection, [row | {"response_id": new_id} for row in rows])
                t1 = time.perf_counter()
                add_counts(connection, Counts(counts.answer_rows, counts.response_rows, None))
                t2 = time.perf_counter()
                _COUNT_DOSSIER.run(connection, counts.dossier)
                t3 = time.perf_counter()
                transaction.commit()
                t4 = time.perf_counter()
            times["rows"] += t1 - t0
            times["tallies"] += t2 - t1
            times["dossier"] += t3 - t2
            times["commit"] += t4 - t3
        times["cpu"] = time.process_time() - cpu
    finally:
        if bare:
            with database.engine.begin() as connection:
                install_triggers(connection)
    return {k: v / len(ratings) * 1000 for k, v in times.items()}


def _explained(database: Any, ratings: list[Any]) -> dict[str, float]:
    """EXPLAIN ANALYZE of each rating's WITH, summed by part (milliseconds per rating)."""
    from sqlalchemy import text

    from sipas import rating_statement as rs

    clause = rs._statement()
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + clause.text).bindparams(
        *(p for p in clause._bindparams.values() if p.key in ("submitted_at", "created_at", "channel")))
    totals: dict[str, float] = {}

    def add(name: str, value: float) -> None:
        totals[name] = totals.get(name, 0.0) + value

    for values, rows, counts in ratings:
        params = _params(values, rows, counts)
        with database.engine.begin() as connection:
            plan = connection.execute(explain, params).scalar()[0]
        add("planning", plan["Planning Time"])
        add("execution", plan["Execution Time"])
        for trigger in plan.get("Triggers", []):
            name = trigger["Trigger Name"]
            add("trigger " + ("dossier events" if name.startswith("dossier_events") else "foreign keys"),
                trigger["Time"])
        for node in plan["Plan"].get("Plans", []):
            if node.get("Subplan Name", "").startswith("CTE "):
                add("cte " + node["Subplan Name"][4:], node["Actual Total Time"] * node["Actual Loops"])
    return {k: v / len(ratings) for k, v in totals.items()}


def _params(values: dict[str, Any], rows: list[dict[str, Any]], counts: Any) -> dict[str, Any]:
    from sipas import rating_statement as rs

    params: dict[str, Any] = {c: values[c] for c in rs._RESPONSE_COLUMNS}
    for name, varying, found in (("a", rs._ANSWER_VARYING, rows), ("t", rs._ANSWER_TALLY_VARYING, counts.answer_rows),
                                 ("rt", rs._RESPONSE_TALLY_VARYING, counts.response_rows)):
        for column in varying:
            params[f"{name}_{column}"] = [row[column] for row in found]
    params.update({f"d_{k}": v for k, v in counts.dossier.items()})
    return params


def _pg_wall(database: Any, ratings: list[Any]) -> dict[str, float]:
    from sipas.rating_statement import write_rating

    cpu, wall = time.process_time(), time.perf_counter()
    with database.engine.connect() as connection:
        for values, rows, counts in ratings:
            write_rating(connection, values, rows, counts)
            connection.commit()
    return {"wall": (time.perf_counter() - wall) / len(ratings) * 1000,
            "client cpu": (time.process_time() - cpu) / len(ratings) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    url, cluster = intake.scratch_database(args.backend, "sipas-ratingdb-")
    try:
        intake.seed(url, devices=1)
        from sipas.settings import Settings
        from sipas.storage import Database

        settings = Settings.from_env({}, database_url=url, secret_key=intake.SECRET)
        database = Database(settings)
        offset = 0

        def batch(count: int) -> list[Any]:
            nonlocal offset
            with database.session() as session:
                made = _ratings(session, count, offset, settings.tz)
            offset += count
            return made

        results: dict[str, list[float]] = {}
        kinds = (("with triggers", False), ("triggers dropped", True)) if args.backend == "sqlite" else (("", False),)
        if args.backend == "sqlite":
            _sqlite_rep(database, batch(100), False)  # warm-up
        else:
            _pg_wall(database, batch(100))
            _explained(database, batch(100))
        for _rep in range(args.reps):
            for label, bare in kinds:
                if args.backend == "sqlite":
                    found = _sqlite_rep(database, batch(args.n), bare)
                else:
                    found = _pg_wall(database, batch(args.n)) | _explained(database, batch(args.n))
                for name, value in found.items():
                    results.setdefault(f"{label} {name}".strip(), []).append(value)
        print(f"{args.backend}: {args.n} ratings a repetition, {args.reps} repetitions; ms per rating, "
              "median (min–max)")
        for name, values in results.items():
            print(f"  {name:36s} {statistics.median(values):.4f} ({min(values):.4f}–{max(values):.4f})")
        database.dispose()
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
