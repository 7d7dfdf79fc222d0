"""Index 8 of many units and quarters in one pass (``sipas.cases.index8.index8_by_unit_quarter``) equals index 8
computed from the case list, unit by unit and quarter by quarter, on random data: dissatisfied answers,
comments that ask for action or only thank, cases in every status, answered early or late, units with their
own answer time, a unit without ratings in a quarter."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import func, select, text

from sipas.cases import rules
from sipas.cases.index8 import _opened, index8_by_unit_quarter, quarter_index8
from sipas.cases.models import CaseStatus
from sipas.cases.service import CaseFilters, list_cases
from sipas.clock import Period
from sipas.models import Response
from tests.cases.random_cases import add_ratings
from tests.factories import TZ, answers_for, create_response, create_unit, local

TODAY = date(2026, 5, 10)
QUARTERS = [(2026, 1), (2026, 2)]
ANSWERED = (CaseStatus.ANSWERED, CaseStatus.CLOSED)


def _reference(session, catalogue, unit_id: int, year: int, quarter: int) -> rules.Index8 | None:  # type: ignore[no-untyped-def]
    """Index 8 as the case list sees it: the definition the batched pass must keep."""
    start, end = Period.quarter(year, quarter).utc_bounds(TZ)
    if not _rated(session, unit_id, start, end):
        return None
    rows = list_cases(session, catalogue, [unit_id], CaseFilters(period=Period.quarter(year, quarter)), tz=TZ,
                      today=TODAY)
    return rules.index8([rules.CaseFacts(r.status, r.due, r.case.answered_local_date if r.case else None)
                         for r in rows], TODAY)


def _rated(session, unit_id: int, start, end) -> bool:  # type: ignore[no-untyped-def]
    return bool(session.scalar(select(func.count(Response.id)).where(
        Response.unit_id == unit_id, Response.submitted_at >= start, Response.submitted_at < end)))


@pytest.mark.parametrize("seed", range(4))
def test_the_batched_index8_equals_the_case_list_on_random_data(session, catalogue, seed):
    rng = random.Random(seed)
    units = [create_unit(session, allow_anonymous=True) for _ in range(4)]
    units[1].options = {**(units[1].options or {}), "case_due_days": 3}
    criteria = list(answers_for(catalogue, on=local(2026, 2, 1)))
    for unit in units[:3]:  # the last unit has no rating at all; the third none in the second quarter
        months = [1, 2, 3] if unit is units[2] else [1, 2, 3, 4, 5]
        add_ratings(session, catalogue, unit, rng, count=rng.randint(5, 25),
                    submitted=lambda r, m=months: local(2026, r.choice(m), r.randint(1, 28), r.randint(7, 16)),
                    answered_if=lambda status, r: status in ANSWERED and r.random() < 0.8)
    recent = answers_for(catalogue, on=local(2026, 5, 5)) | {criteria[0]: "khong_hai_long"}
    create_response(session, catalogue, units[1], answers=recent, submitted_at=local(2026, 5, 5),
                    now=local(2026, 5, 10))
    session.flush()  # past the unit's 3 days on TODAY, within the default 10
    ids = [u.id for u in units]
    batched = index8_by_unit_quarter(session, ids, QUARTERS, tz=TZ, today=TODAY)
    assert set(batched) == {(u, y, q) for u in ids for y, q in QUARTERS}
    for (unit_id, year, quarter), value in batched.items():
        assert value == _reference(session, catalogue, unit_id, year, quarter), (unit_id, year, quarter)
        assert quarter_index8(session, unit_id, year, quarter, tz=TZ, today=TODAY) == value
    assert batched[(units[3].id, 2026, 1)] is None and batched[(units[2].id, 2026, 2)] is None
    assert batched[(units[0].id, 2026, 1)] is not None
    assert batched[(units[1].id, 2026, 2)].outstanding >= 1  # type: ignore[union-attr]


def test_the_case_records_are_read_without_the_responses_of_the_quarter(session):  # type: ignore[no-untyped-def]
    """The case records drive the query (each response found by its key): the responses of a province's quarter
    are counted from the tallies, never read one by one."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    start, end = Period.quarter(2026, 1).utc_bounds(TZ)
    quarter = (Response.submitted_at >= start, Response.submitted_at < end)
    compiled = _opened([1, 2], quarter).compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(str(row) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "SEARCH response USING INTEGER PRIMARY KEY" in plan, plan


def test_a_case_without_a_record_is_past_due_from_the_day_after_its_due_day(session, catalogue):  # type: ignore[no-untyped-def]
    """Due ``due_days`` after its local day: on TODAY, a response of TODAY − 3 days (a unit with 3 days) is due
    today, not yet past due; one a minute before that local day began is past due. Both sides of local
    midnight, for a dissatisfied answer and for a comment asking for action."""
    unit = create_unit(session, allow_anonymous=True)
    unit.options = {**(unit.options or {}), "case_due_days": 3}
    unhappy = answers_for(catalogue, on=local(2026, 5, 7)) | {
        next(iter(answers_for(catalogue, on=local(2026, 5, 7)))): "khong_hai_long"}
    for at, answers, comment in ((local(2026, 5, 7, 0, 1), unhappy, None),
                                 (local(2026, 5, 6, 23, 59), unhappy, None),
                                 (local(2026, 5, 7, 0, 2), answers_for(catalogue, on=local(2026, 5, 7)),
                                  "Đề nghị bố trí thêm ghế"),
                                 (local(2026, 5, 6, 23, 58), answers_for(catalogue, on=local(2026, 5, 6)),
                                  "Đề nghị bố trí thêm ghế")):
        create_response(session, catalogue, unit, answers=answers, submitted_at=at, comment=comment,
                        now=local(2026, 5, 10))
    session.flush()
    found = index8_by_unit_quarter(session, [unit.id], [(2026, 2)], tz=TZ, today=TODAY)[(unit.id, 2026, 2)]
    assert found == _reference(session, catalogue, unit.id, 2026, 2)
    assert found is not None and (found.cases, found.outstanding) == (4, 2)
