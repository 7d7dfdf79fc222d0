"""The SQL dossier counts agree with a plain-Python reference on random dossiers (both backends)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from aggregator.report import build_report
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.models import IntakeChannel
from tests.aggregator.fixtures import NOW
from tests.factories import SECRET, TZ, create_unit, local

PERIOD = Period(date(2025, 12, 15), date(2026, 3, 6))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time on ``day``; before 07:00 it is the previous day in UTC, so UTC days would differ."""
    return local(day.year, day.month, day.day, hour, minute)


def reference(dossiers: list[tuple[str, IntakeChannel, date, date | None, date | None]]) -> dict[str, dict[str, int]]:
    """Biểu II.06a counts per field, straight from the definitions in ``aggregator.report``."""
    start, end = PERIOD.start, PERIOD.end
    rows: dict[str, dict[str, int]] = {}
    for field, channel, received, due, returned in dossiers:
        if received > end or (returned is not None and returned < start):
            continue
        row = rows.setdefault(field, dict.fromkeys(
            ("received_online", "received_direct_postal", "carried_over", "resolved", "early", "on_time", "late",
             "in_progress", "in_progress_overdue"), 0))
        if received < start:
            row["carried_over"] += 1
        elif channel.is_online:
            row["received_online"] += 1
        else:
            row["received_direct_postal"] += 1
        if returned is not None and returned <= end:
            row["resolved"] += 1
            key = "on_time" if due is None or returned == due else ("early" if returned < due else "late")
            row[key] += 1
        else:
            row["in_progress"] += 1
            if due is not None and due < end:
                row["in_progress_overdue"] += 1
    return rows


def test_random_dossiers_match_the_reference(session: Session, catalogue: Catalogue) -> None:
    rng = random.Random(20260306)
    unit = create_unit(session)
    made = []
    for _ in range(60):
        received = PERIOD.start + timedelta(days=rng.randint(-60, 100))
        due = received + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.9 else None
        returned = received + timedelta(days=rng.randint(0, 30)) if rng.random() < 0.8 else None
        field = rng.choice(["Hộ tịch", "Chứng thực", "Đất đai"])
        channel = rng.choice(list(IntakeChannel))
        data = DossierInput(code=f"REF-{len(made):03d}", field=field, intake_channel=channel,
                            received_at=_at(received, 6, 30), due_at=_at(due, 16) if due else None,
                            returned_at=None if returned is None
                            else _at(returned, 0, 30) if returned > received else _at(returned, 23, 50))
        upsert_dossier(session, unit, data, tz=TZ, now=NOW, secret=SECRET, actor="test")
        made.append((field, channel, received, due, returned))
    report = build_report(session, catalogue, [unit], PERIOD, tz=TZ, now=NOW, unit_label=unit.name)
    expected = reference(made)
    got = {r["field"]: {k: r[k] for k in expected[r["field"]]} for r in report["fields"] if not r["is_total"]}
    for field in expected:
        assert got[field] == expected[field], field
    assert got.keys() == expected.keys()
    assert sum(r["resolved"] for r in expected.values()) == report["dossiers"]["resolved"] > 0
    assert report["dossiers"]["carried_over"] > 0 and report["dossiers"]["in_progress_overdue"] > 0
    assert any(due is None and returned is not None and PERIOD.contains(returned) for _f, _c, _r, due, returned in made)
