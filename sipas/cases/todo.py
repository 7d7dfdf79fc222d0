"""The console to-do item of the follow-up cases: cases past their due date without an answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from flask import url_for
from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session

from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.cases.service import case_settings
from sipas.clock import local_date, start_of_local_day
from sipas.models import FOLLOW_UP_CANDIDATE, Response, Unit
from sipas.tally import follow_up_by_unit
from sipas.todo import TodoItem

FIRST_DAY = date(2000, 1, 1)  # before any rating: the tallies' months from here on are read in one statement


def overdue_counts(session: Session, units: Sequence[Unit], today: date, tz: tzinfo) -> dict[int, int]:
    """The rows of ``list_cases(…, CaseFilters(overdue=True))`` of each unit, counted without reading them: the
    responses that are cases by their content (``Response.follow_up``) past their unit's due days, from the
    tallies, less those with a case record, plus the case records open or in progress past their due day.
    Statements per distinct ``case_due_days``, never per unit or per case (the province's home page ran
    ``list_cases`` once per unit: 575 statements, two minutes at 1 M responses)."""
    by_days: dict[int, list[int]] = {}
    for unit in units:
        by_days.setdefault(case_settings(unit).due_days, []).append(unit.id)
    counts: dict[int, int] = {}
    c = FollowUpCase
    for days, ids in by_days.items():
        last_day = today - timedelta(days=days + 1)  # overdue: today > submitted day + due days
        if last_day >= FIRST_DAY:
            for unit_id, n in follow_up_by_unit(session, ids, FIRST_DAY, last_day).items():
                counts[unit_id] = counts.get(unit_id, 0) + n
        before = start_of_local_day(today - timedelta(days=days), tz)
        recorded = func.sum(case((and_(Response.follow_up, Response.submitted_at < before), 1), else_=0))
        late = func.sum(case((and_(c.status.in_([CaseStatus.OPEN, CaseStatus.IN_PROGRESS]),
                                   c.answered_local_date.is_(None), c.due_local_date < today), 1), else_=0))
        for unit_id, counted_above, overdue in session.execute(
                select(c.unit_id, recorded, late).select_from(c).join(Response, Response.id == c.response_id)
                .where(c.unit_id.in_(ids), text(f"({FOLLOW_UP_CANDIDATE})")).group_by(c.unit_id)):
            counts[unit_id] = counts.get(unit_id, 0) - int(counted_above or 0) + int(overdue or 0)
    return counts


def overdue_cases(session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo) -> list[TodoItem]:
    counts = overdue_counts(session, units, local_date(now, tz), tz)
    return [TodoItem("Phản ánh quá hạn chưa trả lời", counts.get(unit.id, 0),
                     url_for("console.cases", unit=unit.code, overdue="1"), unit, "bad") for unit in units]
