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
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select, text
from sqlalchemy.orm import Session

from sipas.cases import rules
from sipas.cases.models import FollowUpCase
from sipas.cases.service import case_settings
from sipas.clock import Period
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
    """Index 8 of every unit and quarter asked for: None where the unit has no rating in the quarter.

    A response with no case record yet is an open case, past due on ``today`` when its local day is before
    ``today − due_days``, i.e. when it was submitted before the first instant of that day: a comparison the
    database makes, so those responses are counted in SQL, never loaded one by one. Only the comments of
    responses without a dissatisfied answer are read (is it a request for action?), and the case records."""
    ids = sorted(set(unit_ids))
    due_days = {unit.id: case_settings(unit).due_days
                for unit in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    by_due_days: dict[int, list[int]] = {}
    for unit_id, days in due_days.items():
        by_due_days.setdefault(days, []).append(unit_id)
    result: dict[UnitQuarter, rules.Index8 | None] = {}
    for year, quarter in quarters:
        start, end = Period.quarter(year, quarter).utc_bounds(tz)
        in_quarter = (Response.submitted_at >= start, Response.submitted_at < end)
        rated = set(session.scalars(select(Unit.id).where(
            Unit.id.in_(ids), exists().where(Response.unit_id == Unit.id, *in_quarter)))) if ids else set()
        facts: dict[int, list[rules.CaseFacts]] = {unit_id: [] for unit_id in rated}
        unopened: dict[int, list[int]] = {unit_id: [0, 0] for unit_id in rated}  # cases, of which past due
        for days, units in by_due_days.items():
            group = sorted(rated.intersection(units))
            if not group:
                continue
            past_due = Response.submitted_at < Period(today - timedelta(days=days), today).utc_bounds(tz)[0]
            for unit_id, cases, overdue in session.execute(_unopened_negative(group, in_quarter, past_due)):
                unopened[unit_id][0] += cases
                unopened[unit_id][1] += int(overdue or 0)
            for unit_id, comment, overdue in session.execute(_unopened_comments(group, in_quarter, past_due)):
                if rules.asks_for_action(comment):
                    unopened[unit_id][0] += 1
                    unopened[unit_id][1] += int(bool(overdue))
        for unit_id, status, due, answered_on in session.execute(_opened(sorted(rated), in_quarter)) if rated else ():
            facts[unit_id].append(rules.CaseFacts(status, due, answered_on))
        for unit_id in ids:
            if unit_id in rated:
                cases, overdue = unopened[unit_id]
                result[(unit_id, year, quarter)] = rules.index8(facts[unit_id], today, unopened=cases,
                                                                unopened_overdue=overdue)
            else:
                result[(unit_id, year, quarter)] = None
    return result


def _candidates(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...]) -> list[ColumnElement[bool]]:
    """The responses of the quarter with a dissatisfied answer or a comment.

    The term ``FOLLOW_UP_CANDIDATE`` is written as the partial index ``ix_response_follow_up`` has it, so the
    queries read that index (the candidates only) instead of every response of the quarter."""
    return [Response.unit_id.in_(unit_ids), *in_quarter, text(f"({FOLLOW_UP_CANDIDATE})")]


def _no_case() -> ColumnElement[bool]:
    return ~exists().where(FollowUpCase.response_id == Response.id)


def _unopened_negative(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...],
                       past_due: ColumnElement[bool]) -> Select[Any]:
    """Per unit: responses with a dissatisfied answer and no case record, and how many of them are past due."""
    return (select(Response.unit_id, func.count(), func.count().filter(past_due))
            .where(*_candidates(unit_ids, in_quarter), Response.negative, _no_case())
            .group_by(Response.unit_id))


def _unopened_comments(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...],
                       past_due: ColumnElement[bool]) -> Select[Any]:
    """The comments of responses without a dissatisfied answer nor a case record, with "past due"."""
    return (select(Response.unit_id, Response.comment, past_due)
            .where(*_candidates(unit_ids, in_quarter), ~Response.negative, _no_case()))


def _opened(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    """The case records of the quarter's candidates: status, due day, answer day."""
    case = FollowUpCase
    return (select(Response.unit_id, case.status, case.due_local_date, case.answered_local_date)
            .join(case, case.response_id == Response.id).where(*_candidates(unit_ids, in_quarter)))
