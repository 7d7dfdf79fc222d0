"""Report figures read from the tallies (``sipas.models_tally``) instead of every response and answer.

Each function here has a straight-recount twin in ``aggregator.queries`` over the raw rows; the property
test ``tests/test_tally_property.py`` checks they agree. The tallies are per local day, so a scope is
its units and its period's first and last local day (plus the optional response channel); a ``field``
filter has no tally (a dossier's field can change) and uses the raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sipas.models import ResponseChannel
from sipas.models_tally import AnswerTally, ResponseTally
from sipas.tally import NOT_APPLICABLE


def _where(stmt: Select[Any], model: Any, unit_ids: Sequence[int], start: date, end: date,
           channel: ResponseChannel | None) -> Select[Any]:
    stmt = stmt.where(model.unit_id.in_(unit_ids), model.local_date >= start, model.local_date <= end)
    return stmt if channel is None else stmt.where(model.channel == channel)


def answer_groups(session: Session, unit_ids: Sequence[int], start: date, end: date,
                  channel: ResponseChannel | None, *, by_unit: bool = False) -> list[tuple[Any, ...]]:
    """([unit id,] instrument, version, criterion, option or None, answers, points of the option)."""
    t = AnswerTally
    keys = [t.instrument_code, t.instrument_version, t.criterion_code, t.option_code]
    if by_unit:
        keys.insert(0, t.unit_id)
    stmt = _where(select(*keys, func.sum(t.answers), func.max(t.points)).group_by(*keys),
                  t, unit_ids, start, end, channel)
    rows = []
    for row in session.execute(stmt):
        *head, option, count, points = row
        if count:
            rows.append((*head, None if option == NOT_APPLICABLE else option, int(count),
                         None if points is None else int(points)))
    return rows


def responses_by_instrument(session: Session, unit_ids: Sequence[int], start: date, end: date,
                            channel: ResponseChannel | None) -> list[tuple[str, str, int]]:
    t = ResponseTally
    stmt = _where(select(t.instrument_code, t.instrument_version, func.sum(t.responses))
                  .group_by(t.instrument_code, t.instrument_version), t, unit_ids, start, end, channel)
    return [(code, version, int(n)) for code, version, n in session.execute(stmt) if n]


def responses_by_channel(session: Session, unit_ids: Sequence[int], start: date, end: date) -> dict[str, int]:
    t = ResponseTally
    stmt = _where(select(t.channel, func.sum(t.responses)).group_by(t.channel), t, unit_ids, start, end, None)
    return {str(channel): int(n) for channel, n in session.execute(stmt) if n}


def negative_responses(session: Session, unit_ids: Sequence[int], start: date, end: date,
                       channel: ResponseChannel | None) -> int:
    t = ResponseTally
    return int(session.scalar(_where(select(func.sum(t.negative)), t, unit_ids, start, end, channel)) or 0)
