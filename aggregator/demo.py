"""Demo data: the quarterly staff inputs (indices 5, 6, 8 and paper ballots) of the demo wards."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.inputs import QuarterFigures, save_quarter_input
from sipas.catalogue import Catalogue
from sipas.clock import Period, local_date
from sipas.models import Response, ResponseChannel, Unit
from sipas.settings import Settings

CHOICES = {
    5: ("toan_bo_tai_mot_cua", "tiep_nhan_tra_tai_mot_cua"),
    6: ("niem_yet_va_dien_tu", "niem_yet_hoac_dien_tu"),
    8: ("khong_co_hoac_du", "tu_90"),
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
                                     index8=rng.choice(CHOICES[8]),
                                     ballots_handed_out=paper + rng.randint(5, 40) if paper else None)
            save_quarter_input(session, catalogue, unit, period.start.year, (period.start.month - 1) // 3 + 1,
                               figures, actor="demo", now=now)
