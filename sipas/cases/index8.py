"""Index 8 of TT 01/2018 for units and quarters, computed from their follow-up cases (rules in ``sipas.cases.rules``).

The case list (``sipas.cases.service.list_cases``) loads every candidate response with its answers as ORM
objects, which is right for a page of cases and far too slow for a province's quarter (at 100 k responses it
was 4.3 of the report's 4.9 s). Index 8 needs only three facts per case (status, due day, answer day), so it
is computed here from plain columns, every unit of a quarter in one query over the partial index of the
follow-up candidates (``Response.negative`` or a comment), with the same selection and the same rules: a
response is a case when one of its answers is dissatisfied, its comment asks for action
(``rules.asks_for_action``), or a case was opened on it. ``tests/cases/test_index8_batch.py`` checks this
against the case list on random data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select, text
from sqlalchemy.orm import Session

from sipas.cases import rules
from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.cases.service import case_settings
from sipas.clock import Period, local_date
from sipas.models import FOLLOW_UP_CANDIDATE, Response, Unit

UnitQuarter = tuple[int, int, int]  # (unit id, year, quarter)


def quarter_index8(session: Session, unit_id: int, year: int, quarter: int, *, tz: tzinfo,
                   today: date) -> rules.Index8 | None:
    """None when the unit has no rating at all in the quarter (nothing to judge); otherwise index 8."""
    return index8_by_unit_quarter(session, [unit_id], [(year, quarter)], tz=tz,
                                  today=today)[(unit_id, year, quarter)]


def index8_by_unit_quarter(session: Session, unit_ids: Sequence[int],
                           quarters: Sequence[tuple[int, int]], *, tz: tzinfo,
                           today: date) -> dict[UnitQuarter, rules.Index8 | None]:
    """Index 8 of every unit and quarter asked for: None where the unit has no rating in the quarter."""
    ids = sorted(set(unit_ids))
    due_days = {unit.id: case_settings(unit).due_days
                for unit in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    result: dict[UnitQuarter, rules.Index8 | None] = {}
    for year, quarter in quarters:
        start, end = Period.quarter(year, quarter).utc_bounds(tz)
        in_quarter = (Response.submitted_at >= start, Response.submitted_at < end)
        rated = set(session.scalars(select(Unit.id).where(
            Unit.id.in_(ids), exists().where(Response.unit_id == Unit.id, *in_quarter)))) if ids else set()
        facts: dict[int, list[rules.CaseFacts]] = {unit_id: [] for unit_id in rated}
        if rated:
            for unit_id, submitted_at, comment, negative, status, due, answered_on in session.execute(
                    _candidates(sorted(rated), in_quarter)):
                if not negative and not rules.asks_for_action(comment) and status is None:
                    continue  # a thank-you, never acted on: not a case
                if status is None:
                    facts[unit_id].append(rules.CaseFacts(
                        CaseStatus.OPEN, rules.due_date(local_date(submitted_at, tz), due_days[unit_id]), None))
                else:
                    facts[unit_id].append(rules.CaseFacts(status, due, answered_on))
        for unit_id in ids:
            result[(unit_id, year, quarter)] = rules.index8(facts[unit_id], today) if unit_id in rated else None
    return result


def _candidates(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    """The responses of the quarter with a dissatisfied answer or a comment, as plain columns with their case.

    The term ``FOLLOW_UP_CANDIDATE`` is written as the partial index ``ix_response_follow_up`` has it, so the
    query reads that index (the candidates only) instead of every response of the quarter."""
    case = FollowUpCase
    return (select(Response.unit_id, Response.submitted_at, Response.comment, Response.negative, case.status,
                   case.due_local_date, case.answered_local_date)
            .outerjoin(case, case.response_id == Response.id)
            .where(Response.unit_id.in_(unit_ids), *in_quarter, text(f"({FOLLOW_UP_CANDIDATE})")))
