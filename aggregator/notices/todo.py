"""Console to-do item of the notices: the notice of the last whole quarter not yet issued."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from sipas.clock import Period, local_date
from sipas.models import Unit
from sipas.todo import TodoItem


def last_quarter(now: datetime, tz: tzinfo) -> Period:
    current = Period.containing_quarter(local_date(now, tz))
    year, quarter = current.start.year, (current.start.month - 1) // 3 + 1
    return Period.quarter(year - 1, 4) if quarter == 1 else Period.quarter(year, quarter - 1)


def notice_not_issued(session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo) -> list[TodoItem]:
    period = last_quarter(now, tz)
    issued = set(session.scalars(select(Notice.unit_id).where(
        Notice.unit_id.in_([u.id for u in units]), Notice.period_start == period.start,
        Notice.period_end == period.end)))
    code = f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"
    return [TodoItem(f"Thông báo kết quả {period.words()} chưa ban hành", 1,
                     url_for("notices.index", unit=u.code, quarter=code), u) for u in units if u.id not in issued]
