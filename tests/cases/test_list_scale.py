"""The case list of many units is decided, counted and ordered from a few columns and loads the answers of its page
only (``sipas.cases.service.case_page``): its rows, their order, the total, the overdue count and the criterion
filter's choices equal the list read whole, as it was read until 2026-12-07 (kept below as the reference), on
random data over every combination of the filters; and the answers it loads do not grow with the candidates (a
province's list read 111,714 candidates with their answers into Python: 103 s, past nginx's 60 s)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from sipas.cases import rules, service
from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.cases.service import NO_ASSIGNEE, CaseFilters, CaseRow, case_row
from sipas.clock import Period, local_date
from sipas.models import Answer, Response, ResponseChannel, Role
from tests.factories import TZ, answers_for, create_clerk, create_response, create_unit, local, login
from tests.statement_support import selects

TODAY = date(2026, 5, 10)
COMMENTS = [None, "", "  ", "Cảm ơn cán bộ nhiệt tình", "Cán bộ trẻ, chăm chỉ", "Đề nghị bố trí thêm ghế",
            "Xu ly qua cham", "Thái độ rất tốt, không có gì phàn nàn"]
CHANNELS = [ResponseChannel.KIOSK, ResponseChannel.PAPER]


def _reference(session, catalogue, unit_ids: Sequence[int], filters: CaseFilters) -> list[CaseRow]:  # type: ignore[no-untyped-def]
    """The case list as it was read until 2026-12-07: every candidate with its answers, filtered and sorted in
    Python."""
    stmt = service._candidates(catalogue, unit_ids)  # the former candidates, which find_row still reads
    if filters.period is not None:
        start, end = filters.period.utc_bounds(TZ)
        stmt = stmt.where(Response.submitted_at >= start, Response.submitted_at < end)
    if filters.channel is not None:
        stmt = stmt.where(Response.channel == filters.channel)
    if filters.assignee_id == NO_ASSIGNEE:
        stmt = stmt.where(FollowUpCase.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        stmt = stmt.where(FollowUpCase.assignee_id == filters.assignee_id)
    rows, keys = [], set(catalogue.dissatisfied_answers())
    for response, case in session.execute(stmt.order_by(Response.submitted_at, Response.id)):
        row = case_row(catalogue, response, case, tz=TZ, today=TODAY, keys=keys)
        if row is None or (filters.status is not None and row.status is not filters.status):
            continue
        if (filters.criterion and filters.criterion not in row.dissatisfied) or (filters.overdue and not row.overdue):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (rules.is_answered(r.status), r.due, r.response.id))
    return rows


def _facts(row: CaseRow) -> tuple[object, ...]:
    return (row.response.id, row.case.id if row.case else None, row.submitted_on, row.dissatisfied,
            row.asks_for_action, row.status, row.due, row.age_days, row.overdue)


def _fill(session, catalogue, units, officers, rng: random.Random, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` random ratings over the units: up to two dissatisfied answers, comments that ask for action, thank
    or are blank, two channels, and for four in ten a case in any status, assigned or not, answered or closed."""
    criteria = list(answers_for(catalogue, on=local(2026, 2, 1)))
    for _ in range(count):
        at = local(2026, rng.choice([1, 3, 4, 5]), rng.randint(1, 9 if rng.random() < 0.5 else 28), rng.randint(7, 16))
        if at.astimezone(TZ).date() > TODAY:
            continue
        answers = answers_for(catalogue, on=at)
        for criterion in rng.sample(criteria, rng.choice([0, 0, 1, 2])):
            answers[criterion] = "khong_hai_long"
        unit = rng.choice(units)
        response = create_response(session, catalogue, unit, answers=answers, submitted_at=at,
                                   channel=rng.choice(CHANNELS), comment=rng.choice(COMMENTS), now=local(2026, 5, 10))
        if rng.random() < 0.4:
            submitted_on = local_date(at, TZ)
            status = rng.choice(list(CaseStatus))
            answered = (submitted_on + timedelta(days=rng.randint(0, 20))
                        if status is not CaseStatus.OPEN and rng.random() < 0.6 else None)
            closed = at + timedelta(days=rng.randint(0, 15)) if status is CaseStatus.CLOSED else None
            session.add(FollowUpCase(unit_id=unit.id, response_id=response.id, status=status,
                                     assignee_id=rng.choice([None, *[o.id for o in officers]]),
                                     due_local_date=submitted_on + timedelta(days=rng.randint(1, 12)),
                                     answered_local_date=answered, closed_at=closed))
    session.flush()


@pytest.mark.parametrize("seed", range(2))
def test_the_case_page_equals_the_whole_list_for_every_filter(session, catalogue, seed):
    rng = random.Random(seed)
    units = [create_unit(session, allow_anonymous=True) for _ in range(4)]
    for unit, days in zip(units[1:], (3, 30, 7), strict=True):
        unit.options = {**(unit.options or {}), "case_due_days": days}
    officers = [create_clerk(session, units[0]), create_clerk(session, units[1])]
    _fill(session, catalogue, units, officers, rng, 80)
    ids = [u.id for u in units]
    combos = list(itertools.product(
        [None, Period.quarter(2026, 2)], [None, "tc04", "khong_co"], [None, ResponseChannel.PAPER],
        [None, *CaseStatus], [None, NO_ASSIGNEE, officers[1].id], [False, True]))
    listed, paged = 0, 0
    for period, criterion, channel, status, assignee, overdue in combos:
        filters = CaseFilters(period=period, criterion=criterion, channel=channel, status=status,
                              assignee_id=assignee, overdue=overdue)
        expected = _reference(session, catalogue, ids, filters)
        page = service.case_page(session, catalogue, ids, filters, tz=TZ, today=TODAY, limit=7)
        assert [_facts(r) for r in page.rows] == [_facts(r) for r in expected[:7]], filters
        assert (page.total, page.overdue) == (len(expected), sum(r.overdue for r in expected)), filters
        assert page.criteria == {c: (r.response.instrument_code, r.response.instrument_version)
                                 for r in expected for c in r.dissatisfied}, filters
        if status is None and not overdue:  # the whole list (the CLI's and the demo's) in the same order
            whole = service.list_cases(session, catalogue, ids, filters, tz=TZ, today=TODAY)
            assert [_facts(r) for r in whole] == [_facts(r) for r in expected], filters
        listed, paged = listed + bool(expected), paged + (len(expected) > 7)
    assert listed > 60 and paged > 20  # the data covers the combinations, and beyond a page


def _list_reads(client, app, session, catalogue, unit, officer, count: int) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    """Statements and answer rows the province's list reads with ``count`` more candidates in the unit."""
    _fill(session, catalogue, [unit], [officer], random.Random(count), count)
    session.commit()
    answers: list[int] = []

    def loaded(target, _context):  # type: ignore[no-untyped-def]
        answers.append(target.id)

    seen, stop = selects(app)
    event.listen(Answer, "load", loaded)
    try:
        page = client.get("/console/cases")
    finally:
        stop()
        event.remove(Answer, "load", loaded)
    assert page.status_code == 200
    return len(seen), len(answers), page.get_data(as_text=True)


def test_the_case_list_loads_the_answers_of_its_page_only(client, app, session, catalogue, monkeypatch):
    monkeypatch.setattr(service, "LIST_LIMIT", 5)
    unit = create_unit(session, allow_anonymous=True)
    admin = create_clerk(session, unit, role=Role.ADMIN)
    officer = create_clerk(session, unit)
    session.commit()
    login(client, admin)
    statements, answers, html = _list_reads(client, app, session, catalogue, unit, officer, 40)
    total = len(_reference(session, catalogue, [unit.id], CaseFilters()))
    assert total > 5 and "Hiển thị 5 phản ánh đầu tiên" in html
    more_statements, more_answers, html = _list_reads(client, app, session, catalogue, unit, officer, 40)
    assert len(_reference(session, catalogue, [unit.id], CaseFilters())) > total
    per_response = len(answers_for(catalogue, on=local(2026, 2, 1)))
    assert answers <= 5 * per_response and more_answers <= 5 * per_response  # the page's five responses
    assert more_statements == statements


def test_a_rating_deleted_while_the_list_is_read_is_left_out(client, app, session, catalogue, monkeypatch):
    """The list reads its rows' facts, then loads the page's responses by id in another statement. On PostgreSQL
    (read committed) each statement sees what was committed before it: a ballot line deleted by a clerk between the
    two took its response away, and the page answered 500 (KeyError). The vanished response is left out of the page.
    SQLite's read transaction keeps one snapshot for both statements."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite reads both statements in one snapshot: nothing vanishes between them")
    from sqlalchemy import create_engine, delete

    unit = create_unit(session, allow_anonymous=True)
    admin = create_clerk(session, unit, role=Role.ADMIN)
    _fill(session, catalogue, [unit], [admin], random.Random(5), 30)
    session.commit()
    login(client, admin)
    before = client.get("/console/cases").get_data(as_text=True)
    read_rows, vanished = service._rows, []

    def deleted_in_between(session_, catalogue_, response_ids, **kwargs):  # type: ignore[no-untyped-def]
        engine = create_engine(session.get_bind().url.render_as_string(hide_password=False))
        try:
            with engine.begin() as connection:  # another clerk's transaction, committed
                connection.execute(delete(Response.__table__).where(Response.__table__.c.id == response_ids[0]))
        finally:
            engine.dispose()
        vanished.append(response_ids[0])
        return read_rows(session_, catalogue_, response_ids, **kwargs)

    monkeypatch.setattr(service, "_rows", deleted_in_between)
    page = client.get("/console/cases")
    assert page.status_code == 200
    after = page.get_data(as_text=True)
    assert vanished and f"Phiếu #{vanished[0]}<" in before and f"Phiếu #{vanished[0]}<" not in after
    assert after.count("Phiếu #") == before.count("Phiếu #") - 1
