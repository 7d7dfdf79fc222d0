"""10,000 SMS invitations due at 07:00 through the console provider (issue 14, goal 5): drained < 60 s, none twice.

    .venv/bin/python bench/invitations.py [--count 10000] [--backend sqlite|postgresql|both]

Seeds ``--count`` returned online dossiers, each with its own number and consent, lets a cycle in the
quiet hours (06:30) create their invitations (due at 07:00), then times the scheduler's cycle at 07:00
with the console provider, as the scheduler runs it (one process). A cycle stops taking messages after
``CYCLE_BUDGET_SECONDS`` (50 s); what it leaves is reported, with the time all would take at its rate.
Then checks that none was sent twice (one outbound message per invitation). Prints Markdown (``bench/run.py``).
The correctness with two concurrent senders is tests/sms_gateway/test_drain.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.scratch import scratch_folder  # noqa: E402
from sipas.dossiers import phone_hash  # noqa: E402
from sipas.migrate import upgrade  # noqa: E402
from sipas.models import Dossier, DossierContact, IntakeChannel  # noqa: E402
from sipas.settings import Settings  # noqa: E402
from sipas.storage import Database  # noqa: E402
from sipas.units import create_unit  # noqa: E402
from sms_gateway.models import Invitation, InvitationStatus, OutboundMessage  # noqa: E402
from sms_gateway.providers.console import ConsoleProvider  # noqa: E402
from sms_gateway.sending import run_cycle  # noqa: E402

BENCH = True  # part of `make bench` (bench/run.py)

SECRET = "bench-secret"
GOAL_SECONDS = 60.0


def _seed(database: Database, settings: Settings, count: int, day: datetime) -> None:
    returned = day - timedelta(hours=10)  # 21:00 the evening before
    with database.session() as session:
        unit = create_unit(session, code="P-SMS", name="Phường Tin Nhắn", actor="bench")
        rows = [{"unit_id": unit.id, "code": f"S-{i:06d}", "procedure": "Đăng ký khai sinh", "field": "",
                 "intake_channel": IntakeChannel.ONLINE_FULL, "received_at": returned - timedelta(days=2),
                 "due_at": returned, "returned_at": returned,
                 "received_local_date": (returned - timedelta(days=2)).astimezone(settings.tz).date(),
                 "due_local_date": returned.astimezone(settings.tz).date(),
                 "returned_local_date": returned.astimezone(settings.tz).date(),
                 "created_at": returned, "updated_at": returned} for i in range(count)]
        for start in range(0, count, 5000):
            session.execute(insert(Dossier), rows[start:start + 5000])
        ids = session.execute(select(Dossier.id, Dossier.code).where(Dossier.unit_id == unit.id)).all()
        contacts = []
        for dossier_id, code in ids:
            phone = f"+849{int(code[2:]):08d}"
            contacts.append({"dossier_id": dossier_id, "phone_e164": phone, "phone_hash": phone_hash(phone, SECRET),
                             "sms_consent": True, "consent_at": returned, "consent_method": "form"})
        for start in range(0, count, 5000):
            session.execute(insert(DossierContact), contacts[start:start + 5000])
    summary = run_cycle(database, settings, now=day - timedelta(minutes=30), provider=ConsoleProvider())
    assert summary.counts.get("created") == count, summary.counts


def measure(url: str, label: str, count: int) -> list[str]:
    upgrade(url)
    settings = Settings.from_env({"SIPAS_SMS_PROVIDER": "console", "SIPAS_PUBLIC_BASE_URL": "https://sipas.example.vn"},
                                 database_url=url, secret_key=SECRET)
    database = Database(settings)
    try:
        today = datetime.now(settings.tz).date() + timedelta(days=1)
        seven = datetime(today.year, today.month, today.day, 7, 0, tzinfo=settings.tz)
        _seed(database, settings, count, seven)
        started = time.perf_counter()
        summary = run_cycle(database, settings, now=seven, provider=ConsoleProvider())
        first_cycle = time.perf_counter() - started
        with database.read_sessionmaker() as session:
            pending = session.scalar(select(func.count()).select_from(Invitation)
                                     .where(Invitation.status == InvitationStatus.PENDING))
            twice = session.scalar(select(func.count()).select_from(
                select(OutboundMessage.invitation_id).group_by(OutboundMessage.invitation_id)
                .having(func.count() > 1).subquery()))
    finally:
        database.dispose()
    in_first = summary.counts.get("invitation_sent", 0)
    rate = in_first / first_cycle
    holds = in_first == count and first_cycle < GOAL_SECONDS and twice == 0
    return [f"| {label} | {count:,} | {in_first:,} | {first_cycle:.1f} s | {rate:,.0f} | {pending:,} "
            f"(all at this rate: {count / rate:,.0f} s) | {twice} | {'holds' if holds else '**missed**'} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    print("## Invitations (goal 5)\n")
    print("The scheduler's cycle at 07:00 (one process, console provider), as in production: every message "
          "claimed in its own committed transaction, the outcomes recorded in one transaction per batch; "
          f"load average at the start {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.\n")
    print(f"| Backend | due at 07:00 | sent by the 07:00 cycle | its duration (goal < {GOAL_SECONDS:.0f} s) | "
          "messages/s | left for the next cycles | sent twice | goal |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    if args.backend in ("sqlite", "both"):
        url = f"sqlite:///{scratch_folder('sipas-bench-') / 'sms.db'}"
        print("\n".join(measure(url, "SQLite", args.count)), flush=True)
    if args.backend in ("postgresql", "both"):
        from tests.pgcluster import PostgresCluster

        cluster = PostgresCluster()
        try:
            print("\n".join(measure(cluster.start(), "PostgreSQL", args.count)), flush=True)
        finally:
            cluster.stop()
    print()


if __name__ == "__main__":
    main()
