"""Demo data: the quarterly staff inputs (indices 5, 6 and paper ballots) of the demo wards, and their answered
follow-up cases (index 8 is computed from them)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.inputs import QuarterFigures, save_quarter_input
from sipas.cases.models import CaseStatus
from sipas.cases.service import CaseFilters, ensure_case, list_cases, move, record
from sipas.catalogue import Catalogue
from sipas.clock import Period, local_date
from sipas.models import Response, ResponseChannel, Unit
from sipas.settings import Settings

CHOICES = {
    5: ("toan_bo_tai_mot_cua", "tiep_nhan_tra_tai_mot_cua"),
    6: ("niem_yet_va_dien_tu", "niem_yet_hoac_dien_tu"),
}


def populate(session: Session, catalogue: Catalogue, settings: Settings, units: list[Unit], now: datetime,
             rng: random.Random) -> None:
    """Enter this and last quarter's figures for every demo ward, as its clerk would."""
    current = Period.containing_quarter(local_date(now, settings.tz))
    previous = Period.containing_quarter(current.start - timedelta(days=1))
    for unit in units:
        for period in (previous, current):
            start, end = period.utc_bounds(settings.tz)
            paper = session.scalar(select(func.count(Response.id)).where(
                Response.unit_id == unit.id, Response.channel == ResponseChannel.PAPER,
                Response.submitted_at >= start, Response.submitted_at < end)) or 0
            figures = QuarterFigures(index5=rng.choice(CHOICES[5]), index6=rng.choice(CHOICES[6]),
                                     ballots_handed_out=paper + rng.randint(5, 40) if paper else None)
            save_quarter_input(session, catalogue, unit, period.start.year, (period.start.month - 1) // 3 + 1,
                               figures, actor="demo", now=now)
        answer_cases(session, catalogue, settings, unit, now, rng)


def answer_cases(session: Session, catalogue: Catalogue, settings: Settings, unit: Unit, now: datetime,
                 rng: random.Random) -> None:
    """Most follow-up cases answered within their due date, a few late, the newest still open."""
    tz = settings.tz
    for row in list_cases(session, catalogue, [unit.id], CaseFilters(), tz=tz, today=local_date(now, tz)):
        answered_at = row.response.submitted_at + timedelta(days=rng.choice((1, 2, 3, 5, 8, 12)), hours=2)
        if answered_at > now:
            continue
        case = ensure_case(session, row, actor="demo", who="Cán bộ Một cửa", now=answered_at)
        record(session, case, explanation="Đã tiếp thu, trao đổi với cán bộ tiếp nhận hồ sơ.",
               contact_made="Gọi điện cho người dân", outcome="", actor="demo", who="Cán bộ Một cửa", now=answered_at)
        move(session, case, CaseStatus.ANSWERED, actor="demo", who="Cán bộ Một cửa", now=answered_at, tz=tz)
