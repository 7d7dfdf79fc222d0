"""Random ratings of a unit for the case tests that compare a fast count with the case list: dissatisfied answers,
comments that ask for action or only thank, and cases in every status, some answered."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.clock import local_date
from tests.factories import TZ, answers_for, create_response, local

COMMENTS = [None, "", "Cảm ơn cán bộ nhiệt tình", "Đề nghị bố trí thêm ghế", "Xu ly qua cham", "  "]


def add_ratings(session: Any, catalogue: Any, unit: Any, rng: random.Random, *, count: int,
                submitted: Callable[[random.Random], datetime],
                answered_if: Callable[[CaseStatus, random.Random], bool], until: date | None = None) -> None:
    """``count`` ratings submitted at ``submitted(rng)`` (those after the local day ``until`` left out), up to two
    criteria answered "khong_hai_long", a random comment, and for four in ten a case whose due day is 1–12 days
    after the rating, answered 0–20 days after it when ``answered_if(status, rng)``."""
    criteria = list(answers_for(catalogue, on=local(2026, 2, 1)))
    for _ in range(count):
        at = submitted(rng)
        if until is not None and at.astimezone(TZ).date() > until:
            continue
        answers = answers_for(catalogue, on=at)
        for criterion in rng.sample(criteria, rng.choice([0, 0, 1, 2])):
            answers[criterion] = "khong_hai_long"
        response = create_response(session, catalogue, unit, answers=answers, submitted_at=at,
                                   comment=rng.choice(COMMENTS), now=local(2026, 5, 10))
        if rng.random() < 0.4:
            submitted_on = local_date(at, TZ)
            status = rng.choice(list(CaseStatus))
            answered = submitted_on + timedelta(days=rng.randint(0, 20)) if answered_if(status, rng) else None
            session.add(FollowUpCase(unit_id=unit.id, response_id=response.id, status=status,
                                     due_local_date=submitted_on + timedelta(days=rng.randint(1, 12)),
                                     answered_local_date=answered))
