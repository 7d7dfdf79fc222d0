"""CPU per intake request in-process (issue 14, goal 1): what each path costs the server's Python, without HTTP.

    .venv/bin/python bench/intake_cpu.py [--backend sqlite|postgresql] [--n 2000] [--reps 5]
                                         [--paths bare api kiosk phone webhook] [--statements] [--profile PREFIX]

On 2 cores shared by the servers and the load generator, served throughput is about the inverse of the CPU a
request costs, so this measures that CPU directly, much less disturbed by other processes than wall time. The
ward is seeded as ``bench/intake.py`` seeds it (``intake.seed``: 120,000 dossiers and an earlier quarter of
ratings; a throwaway PostgreSQL cluster from ``tests/pgcluster.py``), the app made as gunicorn makes it
(``sipas.wsgi.create`` with the bench's settings) beside the bare baseline (``bench/baseline_app.py``), and
each path's requests are the bench's own (its plans), each a WSGI environ built before the clock starts: only
``app(environ, start_response)`` and reading the answer are timed, with ``time.process_time()``. In each
repetition every path runs ``--n`` requests one after the other (alternating paths); the report gives the
median per request with min and max over the repetitions. ``--statements`` counts the statements a request
sends, ``--profile`` writes one more repetition per path through cProfile. Wall time, printed too, is mostly
SQLite's ``fsync`` (``synchronous=FULL``) and waits on the PostgreSQL server. Run by hand, not by
``make bench``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench import baseline_app, intake  # noqa: E402
from bench.scratch import scratch_folder  # noqa: E402

PATHS = ("bare", "api", "kiosk", "phone", "webhook")


def environs(plan: Callable[[int], intake.Request], count: int) -> list[dict[str, Any]]:
    built = []
    for n in range(count):
        method, path, headers, body = plan(n)
        base = intake.PUBLIC if path.startswith("/sms/") else "http://localhost"  # the URL Twilio signed
        environ = EnvironBuilder(path=path, method=method, headers=headers, data=body, base_url=base).get_environ()
        environ["REMOTE_ADDR"] = "127.0.0.1"
        built.append(environ)
    return built


def run(app: Any, built: list[dict[str, Any]]) -> tuple[float, float, int]:
    """CPU and wall milliseconds per request, and how many answers were not 2xx."""
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.append(status)

    cpu, wall = time.process_time(), time.perf_counter()
    for environ in built:
        answer = app(environ, start_response)
        try:
            for _chunk in answer:
                pass
        finally:
            if hasattr(answer, "close"):
                answer.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / len(built) * 1000, wall / len(built) * 1000, sum(not s.startswith("2") for s in statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--statements", action="store_true", help="count the statements per request")
    parser.add_argument("--profile", help="cProfile one more repetition per path into PREFIX-<backend>-<path>.prof")
    args = parser.parse_args()
    url, cluster = intake.scratch_database(args.backend, "sipas-cpu-")
    try:
        key, tokens, answers = intake.seed(url, devices=32)
        os.environ.update({
            "SIPAS_DATABASE_URL": url, "SIPAS_SECRET_KEY": intake.SECRET,
            "SIPAS_INSTANCE_DIR": str(scratch_folder("sipas-cpu-instance-")), "SIPAS_SECURE_COOKIES": "false",
            "SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "0", "SIPAS_SMS_PROVIDER": "twilio",
            "SIPAS_TWILIO_ACCOUNT_SID": intake.TWILIO_SID, "SIPAS_TWILIO_AUTH_TOKEN": intake.TWILIO_TOKEN,
            "SIPAS_TWILIO_FROM": intake.TWILIO_FROM, "SIPAS_PUBLIC_BASE_URL": intake.PUBLIC,
            "BENCH_DATABASE_URL": url})
        from sipas.wsgi import create

        app = create()
        baseline_app.prepare(url)
        bare = baseline_app.create()
        used = {"B": 0, "W": 0}  # the seeded dossiers each path rates: B- (API, kiosk, phone form), W- (SMS)

        def requests(path: str, count: int) -> tuple[Any, list[dict[str, Any]]]:
            pool = "W" if path == "webhook" else "B"
            offset, used[pool] = used[pool], used[pool] + count
            if used[pool] > intake.DOSSIERS:
                raise SystemExit(f"{intake.DOSSIERS} seeded dossiers are not enough: fewer --n or --reps")
            plans = {"api": lambda: intake.api_plan(key, answers, offset, 1),
                     "kiosk": lambda: intake.kiosk_plan(tokens, answers, offset, 1),
                     "phone": lambda: intake.phone_plan(intake.SECRET, answers, offset, 1),
                     "webhook": lambda: intake.webhook_plan(intake.TWILIO_TOKEN, intake.PUBLIC, offset, 1),
                     "bare": lambda: intake.baseline_plan(answers, offset + 500_000)}
            return (bare if path == "bare" else app), environs(plans[path](), count)

        for path in args.paths:  # warm-up: imports, pools, compiled statements
            run(*requests(path, 100))
        results: dict[str, list[tuple[float, float, int]]] = {path: [] for path in args.paths}
        for _rep in range(args.reps):
            for path in args.paths:
                results[path].append(run(*requests(path, args.n)))
        print(f"{args.backend}: {args.n} requests a path, {args.reps} repetitions; ms per request, median (min–max)")
        for path, rows in results.items():
            cpu, wall = [r[0] for r in rows], [r[1] for r in rows]
            print(f"  {path:8s} CPU {statistics.median(cpu):.3f} ({min(cpu):.3f}–{max(cpu):.3f})  "
                  f"wall {statistics.median(wall):.3f}  not 2xx: {sum(r[2] for r in rows)}")
        if args.statements:
            from sqlalchemy import event

            from sipas.storage import get_database

            engine = get_database(app).engine
            for path in (p for p in args.paths if p != "bare"):
                target, built = requests(path, 50)
                sent = [0]

                def count(*_args: Any, sent: list[int] = sent) -> None:
                    sent[0] += 1

                event.listen(engine, "before_cursor_execute", count)
                run(target, built)
                event.remove(engine, "before_cursor_execute", count)
                print(f"  {path:8s} statements per request: {sent[0] / 50:.2f}")
        if args.profile:
            import cProfile

            for path in args.paths:
                target, built = requests(path, args.n)
                profile = cProfile.Profile()
                profile.enable()
                run(target, built)
                profile.disable()
                profile.dump_stats(f"{args.profile}-{args.backend}-{path}.prof")
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
