"""The home page's "Phản ánh quá hạn chưa trả lời" counts, per unit, what the case list shows with
``overdue=1`` (random data, as tests/cases/test_index8_batch.py), and reads them in statements that do not grow
with the number of units: the province's home ran the whole case list once per unit (575 statements, two minutes
on a province of 1 M responses)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from sipas.cases.models import CaseStatus
from sipas.cases.service import CaseFilters, list_cases
from sipas.cases.todo import overdue_counts
from sipas.models import Role
from tests.cases.random_cases import add_ratings
from tests.factories import TZ, create_clerk, create_unit, local, login
from tests.statement_support import selects

TODAY = date(2026, 5, 10)


def _fill(session, catalogue, units, rng):  # type: ignore[no-untyped-def]
    for unit in units:
        add_ratings(session, catalogue, unit, rng, count=rng.randint(4, 14), until=TODAY,
                    submitted=lambda r: local(2026, r.choice([1, 3, 4, 5]), r.randint(1, 9 if r.random() < 0.5 else 28),
                                              r.randint(7, 16)),
                    answered_if=lambda status, r: status is not CaseStatus.OPEN and r.random() < 0.6)
    session.flush()


@pytest.mark.parametrize("seed", range(3))
def test_the_overdue_counts_equal_the_case_list(session, catalogue, seed):
    rng = random.Random(seed)
    units = [create_unit(session, allow_anonymous=True) for _ in range(4)]
    units[1].options = {**(units[1].options or {}), "case_due_days": 3}
    units[2].options = {**(units[2].options or {}), "case_due_days": 30}
    _fill(session, catalogue, units[:3], rng)  # the last unit has no rating
    counts = overdue_counts(session, units, TODAY, TZ)
    for unit in units:
        expected = len(list_cases(session, catalogue, [unit.id], CaseFilters(overdue=True), tz=TZ, today=TODAY))
        assert counts.get(unit.id, 0) == expected, unit.code
    assert any(counts.values())


def _home_statements(client, app, session, catalogue, wards: int) -> int:  # type: ignore[no-untyped-def]
    units = [create_unit(session, allow_anonymous=True) for _ in range(wards)]
    _fill(session, catalogue, units, random.Random(wards))
    session.commit()
    seen, stop = selects(app)
    try:
        assert client.get("/console/").status_code == 200
    finally:
        stop()
    return len(seen)


def test_the_province_home_reads_the_overdue_cases_in_statements_that_do_not_grow_with_its_units(
        client, app, session, catalogue):
    admin = create_clerk(session, create_unit(session), role=Role.ADMIN)
    session.commit()
    login(client, admin)
    two = _home_statements(client, app, session, catalogue, 2)
    four = _home_statements(client, app, session, catalogue, 4)  # six wards in all now
    assert four == two
