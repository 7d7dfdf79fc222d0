"""Index 8 of TT 01/2018 for units and quarters, computed from their follow-up cases (rules in ``sipas.cases.rules``).

The case list (``sipas.cases.service.case_page``) still decides every candidate response of its units in Python
(a few columns each; until 2026-12-07 it loaded them all with their answers as ORM objects, at 100 k responses
4.3 of the report's 4.9 s). Index 8 needs only three facts per case (status, due day, answer day), so it
is computed here for every unit of a quarter at once, with the same selection and the same rules: a response
is a case when one of its answers is dissatisfied or its comment asks for action (``rules.asks_for_action``;
both set ``Response.follow_up`` when it is stored, counted per local day in ``response_tally``), or when a
case was opened on it (the case records, read over the partial index of the follow-up candidates). After a
change of those rules, ``sipas db retally`` recounts the flags. ``tests/cases/test_index8_batch.py`` checks
this against the case list on random data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select, text
from sqlalchemy.orm import Session

from sipas.cases import rules
from sipas.cases.models import FollowUpCase
from sipas.cases.service import case_settings
from sipas.clock import Period, local_date
from sipas.models import FOLLOW_UP_CANDIDATE, Response, Unit
from sipas.tally import follow_up_by_unit

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

    The responses that are cases by their content (``Response.follow_up``) are counted per local day in
    ``response_tally``: those of the quarter, and those past due on ``today`` (a local day before ``today −
    due_days``). The case records of the quarter are read one by one (few: the ones someone acted on); each
    takes its response out of the "no record yet" counts."""
    ids = sorted(set(unit_ids))
    due_days = {unit.id: case_settings(unit).due_days
                for unit in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    result: dict[UnitQuarter, rules.Index8 | None] = {}
    for year, quarter in quarters:
        period = Period.quarter(year, quarter)
        start, end = period.utc_bounds(tz)
        in_quarter = (Response.submitted_at >= start, Response.submitted_at < end)
        rated = sorted(session.scalars(select(Unit.id).where(
            Unit.id.in_(ids), exists().where(Response.unit_id == Unit.id, *in_quarter)))) if ids else []
        result |= {(unit_id, year, quarter): None for unit_id in ids}
        if not rated:
            continue
        cases = follow_up_by_unit(session, rated, period.start, period.end)
        overdue: dict[int, int] = {}
        by_due_days: dict[int, list[int]] = {}
        for unit_id in rated:
            by_due_days.setdefault(due_days[unit_id], []).append(unit_id)
        for days, group in by_due_days.items():
            last_day = min(period.end, today - timedelta(days=days + 1))
            if last_day >= period.start:
                overdue |= follow_up_by_unit(session, group, period.start, last_day)
        unopened = {unit_id: [cases.get(unit_id, 0), overdue.get(unit_id, 0)] for unit_id in rated}
        facts: dict[int, list[rules.CaseFacts]] = {unit_id: [] for unit_id in rated}
        for unit_id, status, due, answered_on, follow_up, submitted_at in session.execute(
                _opened(rated, in_quarter)):
            facts[unit_id].append(rules.CaseFacts(status, due, answered_on))
            if follow_up:  # counted above as a case without a record: it has one
                unopened[unit_id][0] -= 1
                unopened[unit_id][1] -= int(local_date(submitted_at, tz) < today - timedelta(days=due_days[unit_id]))
        for unit_id in rated:
            result[(unit_id, year, quarter)] = rules.index8(facts[unit_id], today, unopened=unopened[unit_id][0],
                                                            unopened_overdue=unopened[unit_id][1])
    return result


def _opened(unit_ids: list[int], in_quarter: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    """The case records of the quarter's follow-up candidates (the responses with a dissatisfied answer or a
    comment, as the case list selects them): status, due day, answer day, and whether the response is a case
    by its content. Read from the case records of the units (few: the ones someone acted on), each joined to
    its response by key, never through the responses of the quarter."""
    case = FollowUpCase
    return (select(case.unit_id, case.status, case.due_local_date, case.answered_local_date, Response.follow_up,
                   Response.submitted_at)
            .select_from(case).join(Response, Response.id == case.response_id)
            .where(case.unit_id.in_(unit_ids), *in_quarter, text(f"({FOLLOW_UP_CANDIDATE})")))
