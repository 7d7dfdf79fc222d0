"""Index 8 of TT 01/2018 for a unit and quarter, computed from its follow-up cases (rules in ``sipas.cases.rules``)."""

from __future__ import annotations

from datetime import date, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sipas.cases import rules
from sipas.cases.service import CaseFilters, list_cases
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Response


def quarter_index8(session: Session, catalogue: Catalogue, unit_id: int, year: int, quarter: int, *, tz: tzinfo,
                   today: date) -> rules.Index8 | None:
    """None when the unit has no rating at all in the quarter (nothing to judge); otherwise index 8."""
    period = Period.quarter(year, quarter)
    start, end = period.utc_bounds(tz)
    rated = session.scalar(select(func.count(Response.id)).where(
        Response.unit_id == unit_id, Response.submitted_at >= start, Response.submitted_at < end)) or 0
    if not rated:
        return None
    rows = list_cases(session, catalogue, [unit_id], CaseFilters(period=period), tz=tz, today=today)
    facts = [rules.CaseFacts(r.status, r.due, r.case.answered_local_date if r.case else None) for r in rows]
    return rules.index8(facts, today)
