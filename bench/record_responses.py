"""How many ratings per second the core stores, one transaction each (as a request would).

    .venv/bin/python bench/record_responses.py [--count 2000] [--threads 4] [--database-url URL]

Prints sequential and concurrent throughput and the cost of refusing duplicates, as figures and
ratios. Default: a fresh SQLite file (WAL) in a temporary folder; pass a PostgreSQL URL of an
empty database to measure that instead.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sipas.catalogue import load_catalogue
from sipas.dossiers import DossierInput, apply_dossier
from sipas.errors import AlreadyRated
from sipas.migrate import upgrade
from sipas.models import IntakeChannel, ResponseChannel, Unit
from sipas.responses import ResponseInput, record_response
from sipas.settings import DEFAULT_CONFIG_DIR, Settings
from sipas.storage import Database
from sipas.units import create_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    settings = Settings.from_env({}, database_url=url, secret_key="bench")
    database = Database(settings)
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    now = datetime.now(UTC)
    hue12 = catalogue.current("hue12", now.astimezone(TZ).date())
    answers = {c.code: c.options[0].code for c in hue12.citizen_criteria}
    total = args.count * 2
    with database.session() as session:
        unit = create_unit(session, code=f"BENCH{int(time.time())}", name="Phường Đo", actor="bench")
        for i in range(total):
            received = now - timedelta(days=3)
            apply_dossier(session, unit, DossierInput(
                code=f"B-{i:06d}", received_at=received, due_at=received + timedelta(days=2),
                returned_at=received + timedelta(days=1), intake_channel=IntakeChannel.DIRECT),
                tz=TZ, now=now, secret="bench", lookup=False)
        unit_id = unit.id

    def submit(code: str) -> bool:
        with database.session() as session:
            unit = session.get(Unit, unit_id)
            try:
                record_response(session, catalogue, unit, ResponseInput(
                    instrument="hue12", channel=ResponseChannel.KIOSK, answers=answers, dossier_code=code),
                    now=datetime.now(UTC), tz=TZ, actor="bench")
            except AlreadyRated:
                return False
        return True

    started = time.perf_counter()
    for i in range(args.count):
        submit(f"B-{i:06d}")
    sequential = args.count / (time.perf_counter() - started)

    codes = [f"B-{i:06d}" for i in range(args.count, total)]
    chunks = [codes[i::args.threads] for i in range(args.threads)]
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda chunk=chunk: [submit(c) for c in chunk]) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = args.count / (time.perf_counter() - started)

    sample = codes[: min(500, len(codes))]
    started = time.perf_counter()
    refused = sum(not submit(c) for c in sample)
    duplicate_rate = len(sample) / (time.perf_counter() - started)
    database.dispose()

    backend = url.split(":", 1)[0]
    print(f"backend: {backend}, responses: {args.count} sequential + {args.count} on {args.threads} threads")
    print(f"sequential:  {sequential:8.0f} responses/s ({1000 / sequential:.2f} ms each)")
    print(f"concurrent:  {concurrent:8.0f} responses/s (ratio to sequential {concurrent / sequential:.2f})")
    print(f"duplicates:  {duplicate_rate:8.0f} refusals/s ({refused}/{len(sample)} refused; "
          f"ratio to storing {duplicate_rate / sequential:.2f})")


if __name__ == "__main__":
    main()
