"""Report figures read from the tallies (``sipas.models_tally``) instead of every response and answer.

Each function here has a straight-recount twin in ``aggregator.queries`` over the raw rows; the property
test ``tests/aggregator/test_tally_property.py`` checks they agree. A period is cut into whole months (read
from the month rows) and the days of its partial months (read from the day rows), one query each, summed
here. A ``field`` filter has no tally (a dossier's field can change) and uses the raw rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from sipas.models import ResponseChannel
from sipas.models_tally import AnswerTally, ResponseTally
from sipas.tally import NOT_APPLICABLE, spans


def _parts(model: Any, unit_ids: Sequence[int], start: date, end: date,
           channel: ResponseChannel | None) -> Iterator[list[ColumnElement[bool]]]:
    """The WHERE clauses of each part of the period (each one index range per unit)."""
    months, days = spans(start, end)
    common = [model.unit_id.in_(unit_ids)] + ([] if channel is None else [model.channel == channel])
    if months:
        yield [*common, model.grain == "month", model.local_date.in_(months)]
    for first, last in days:
        yield [*common, model.grain == "day", model.local_date >= first, model.local_date <= last]


def _summed(session: Session, stmt: Select[Any], model: Any, unit_ids: Sequence[int], start: date, end: date,
            channel: ResponseChannel | None, keys: int) -> dict[tuple[Any, ...], list[Any]]:
    """Run ``stmt`` (``keys`` key columns, then sums, then one max) per part and add the parts up."""
    total: dict[tuple[Any, ...], list[Any]] = {}
    for where in _parts(model, unit_ids, start, end, channel):
        for row in session.execute(stmt.where(*where)):
            key, values = tuple(row[:keys]), [v or 0 for v in row[keys:-1]] + [row[-1]]  # SUM of no rows is NULL
            before = total.get(key)
            if before is None:
                total[key] = values
            else:
                total[key] = [b + v for b, v in zip(before[:-1], values[:-1], strict=True)] + \
                    [max((x for x in (before[-1], values[-1]) if x is not None), default=None)]
    return total


def answer_groups(session: Session, unit_ids: Sequence[int], start: date, end: date,
                  channel: ResponseChannel | None, *, by_unit: bool = False) -> list[tuple[Any, ...]]:
    """([unit id,] instrument, version, criterion, option or None, answers, points of the option)."""
    t = AnswerTally
    keys = [t.instrument_code, t.instrument_version, t.criterion_code, t.option_code]
    if by_unit:
        keys.insert(0, t.unit_id)
    # the same groups, but SQLite's sorter settles most comparisons on the first column: criterion and option
    # differ from row to row, the form and its version seldom (the province quarter at 100 k: 84 -> 52 ms)
    order = [*([t.unit_id] if by_unit else []), t.criterion_code, t.option_code, t.instrument_code,
             t.instrument_version]
    stmt = select(*keys, func.sum(t.answers), func.max(t.points)).group_by(*order)
    rows = []
    for key, (count, points) in _summed(session, stmt, t, unit_ids, start, end, channel, len(keys)).items():
        if count:
            *head, option = key
            rows.append((*head, None if option == NOT_APPLICABLE else option, int(count),
                         None if points is None else int(points)))
    return rows


def _responses(session: Session, keys: list[Any], unit_ids: Sequence[int], start: date, end: date,
               channel: ResponseChannel | None) -> dict[tuple[Any, ...], list[Any]]:
    t = ResponseTally
    stmt = select(*keys, func.sum(t.responses), func.sum(t.negative), func.max(t.id))
    if keys:
        stmt = stmt.group_by(*keys)
    return _summed(session, stmt, t, unit_ids, start, end, channel, len(keys))


def responses_by_instrument(session: Session, unit_ids: Sequence[int], start: date, end: date,
                            channel: ResponseChannel | None) -> list[tuple[str, str, int]]:
    t = ResponseTally
    found = _responses(session, [t.instrument_code, t.instrument_version], unit_ids, start, end, channel)
    return [(code, version, int(values[0])) for (code, version), values in found.items() if values[0]]


def responses_by_channel(session: Session, unit_ids: Sequence[int], start: date, end: date) -> dict[str, int]:
    found = _responses(session, [ResponseTally.channel], unit_ids, start, end, None)
    return {str(channel): int(values[0]) for (channel,), values in found.items() if values[0]}


def negative_responses(session: Session, unit_ids: Sequence[int], start: date, end: date,
                       channel: ResponseChannel | None) -> int:
    found = _responses(session, [], unit_ids, start, end, channel)
    return sum(int(values[1] or 0) for values in found.values())
