"""What acknowledging only what is on disk costs: SQLite ``synchronous=FULL`` (what sipas runs) vs ``NORMAL``.

    .venv/bin/python bench/sqlite_synchronous.py [--count 1000] [--folder DIR]

Stores ``count`` kiosk ratings one transaction each (as requests do) into two fresh SQLite files in the
same folder and process, one per setting, alternating rounds so both see the same disk, and prints
the rates and their ratio. Use ``--folder`` to measure on the disk the server uses (a temporary
folder may be in memory, where syncing costs nothing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, text

from sipas.catalogue import load_catalogue
from sipas.dossiers import DossierInput, apply_dossier
from sipas.migrate import upgrade
from sipas.models import IntakeChannel, ResponseChannel, Unit
from sipas.responses import ResponseInput, record_response
from sipas.settings import DEFAULT_CONFIG_DIR, Settings
from sipas.storage import SQLITE_SYNCHRONOUS, Database
from sipas.units import create_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROUNDS = 4


class Target:
    """One SQLite file with the given ``synchronous`` setting and enough returned dossiers to rate."""

    def __init__(self, folder: Path, mode: str, count: int) -> None:
        url = f"sqlite:///{folder / f'bench-{mode.lower()}.db'}"
        upgrade(url)
        self.database = Database(Settings.from_env({}, database_url=url, secret_key="bench"))
        if mode != SQLITE_SYNCHRONOUS:
            event.listen(self.database.engine, "connect", lambda conn, _record: conn.execute(
                f"PRAGMA synchronous={mode}"))  # after the app's own pragmas
        with self.database.engine.connect() as connection:
            self.setting = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                connection.execute(text("PRAGMA synchronous")).scalar_one()]
        now = datetime.now(UTC)
        with self.database.session() as session:
            unit = create_unit(session, code="BENCH", name="Phường Đo", actor="bench")
            for i in range(count):
                received = now - timedelta(days=3)
                apply_dossier(session, unit, DossierInput(
                    code=f"B-{i:06d}", received_at=received, due_at=received + timedelta(days=2),
                    returned_at=received + timedelta(days=1), intake_channel=IntakeChannel.DIRECT),
                    tz=TZ, now=now, secret="bench", lookup=False)
            self.unit_id = unit.id
        self.seconds = 0.0
        self.stored = 0

    def store(self, codes: list[str], catalogue: Any, answers: dict[str, str]) -> None:
        started = time.perf_counter()
        for code in codes:
            with self.database.session() as session:
                unit = session.get(Unit, self.unit_id)
                record_response(session, catalogue, unit, ResponseInput(
                    instrument="hue12", channel=ResponseChannel.KIOSK, answers=answers, dossier_code=code,
                    idempotency_key=f"bench-{code}", source="kiosk:bench"), now=datetime.now(UTC), tz=TZ,
                    actor="bench")
        self.seconds += time.perf_counter() - started
        self.stored += len(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(dir=args.folder))
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    hue12 = catalogue.current("hue12", datetime.now(TZ).date())
    answers = {c.code: c.options[0].code for c in hue12.citizen_criteria}
    targets = [Target(folder, "FULL", args.count), Target(folder, "NORMAL", args.count)]
    codes = [f"B-{i:06d}" for i in range(args.count)]
    for round_ in range(ROUNDS):
        chunk = codes[round_::ROUNDS]
        for target in targets if round_ % 2 == 0 else reversed(targets):
            target.store(chunk, catalogue, answers)
    for target in targets:
        target.database.dispose()
    full, normal = targets
    print(f"folder: {folder}, ratings: {args.count} per setting, one transaction each")
    for target in targets:
        rate = target.stored / target.seconds
        print(f"synchronous={target.setting:<7} {rate:8.0f} ratings/s ({1000 / rate:.2f} ms each)")
    print(f"FULL costs {full.seconds / normal.seconds:.2f}x the time of NORMAL per acknowledged rating")


if __name__ == "__main__":
    main()
