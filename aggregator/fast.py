"""Report figures read from the tallies (``sipas.models_tally``) instead of every response and answer.

Each function here has a straight-recount twin in ``aggregator.queries`` over the raw rows; the property
test ``tests/aggregator/test_tally_property.py`` checks they agree. A period is cut into whole months (read
from the month rows) and the days of its partial months (read from the day rows), one query each, summed
here. A ``field`` filter has no tally (a dossier's field can change) and uses the raw rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session

from sipas.models import ResponseChannel
from sipas.models_tally import AnswerTally, ResponseTally
from sipas.tally import NOT_APPLICABLE, spans


def _where(model: Any, grain: str, by_channel: bool) -> list[ColumnElement[bool]]:
    """The WHERE clauses of one part of a period at ``grain`` (each one index range per unit), with bound
    parameters: ``units``, ``channel``, and ``months`` (month rows) or ``first`` and ``last`` (day rows)."""
    common = [model.unit_id.in_(bindparam("units", expanding=True))]
    if by_channel:
        common.append(model.channel == bindparam("channel"))
    if grain == "month":
        return [*common, model.grain == "month", model.local_date.in_(bindparam("months", expanding=True))]
    return [*common, model.grain == "day", model.local_date >= bindparam("first"),
            model.local_date <= bindparam("last")]


def _answers(by_unit: bool) -> tuple[Any, Select[Any], int]:
    t = AnswerTally
    keys = [t.instrument_code, t.instrument_version, t.criterion_code, t.option_code]
    if by_unit:
        keys.insert(0, t.unit_id)
    # the same groups, but SQLite's sorter settles most comparisons on the first column: criterion and option
    # differ from row to row, the form and its version seldom (the province quarter at 100 k: 84 -> 52 ms)
    order = [*([t.unit_id] if by_unit else []), t.criterion_code, t.option_code, t.instrument_code,
             t.instrument_version]
    return t, select(*keys, func.sum(t.answers), func.max(t.points)).group_by(*order), len(keys)


def _responses_by(keys: list[Any]) -> tuple[Any, Select[Any], int]:
    t = ResponseTally
    stmt = select(*keys, func.sum(t.responses), func.sum(t.negative), func.max(t.id))
    return t, (stmt.group_by(*keys) if keys else stmt), len(keys)


# name -> (tally model; statement: key columns, then sums, then one max; number of key columns)
_BASES = {
    "answers": lambda: _answers(False),
    "answers_by_unit": lambda: _answers(True),
    "responses_by_instrument": lambda: _responses_by([ResponseTally.instrument_code, ResponseTally.instrument_version]),
    "responses_by_channel": lambda: _responses_by([ResponseTally.channel]),
    "responses_by_unit_and_channel": lambda: _responses_by([ResponseTally.unit_id, ResponseTally.channel]),
    "responses": lambda: _responses_by([]),
}


@functools.cache
def _statement(name: str, grain: str, by_channel: bool) -> tuple[Select[Any], int]:
    """Built once: a report is read often, and building its statements cost more than a ward's rows."""
    model, stmt, keys = _BASES[name]()
    return stmt.where(*_where(model, grain, by_channel)), keys


def _summed(session: Session, name: str, unit_ids: Sequence[int], start: date, end: date,
            channel: ResponseChannel | None) -> dict[tuple[Any, ...], list[Any]]:
    """Run the statement ``name`` per part of the period (whole months, then the days of partial months) and add
    the parts up."""
    months, days = spans(start, end)
    common = {"units": list(unit_ids), "channel": channel}
    parts = ([("month", {"months": months})] if months else []) + [
        ("day", {"first": first, "last": last}) for first, last in days]
    total: dict[tuple[Any, ...], list[Any]] = {}
    for grain, params in parts:
        stmt, keys = _statement(name, grain, channel is not None)
        for row in session.execute(stmt, common | params):
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
    rows = []
    name = "answers_by_unit" if by_unit else "answers"
    for key, (count, points) in _summed(session, name, unit_ids, start, end, channel).items():
        if count:
            *head, option = key
            rows.append((*head, None if option == NOT_APPLICABLE else option, int(count),
                         None if points is None else int(points)))
    return rows


def responses_by_instrument(session: Session, unit_ids: Sequence[int], start: date, end: date,
                            channel: ResponseChannel | None) -> list[tuple[str, str, int]]:
    found = _summed(session, "responses_by_instrument", unit_ids, start, end, channel)
    return [(code, version, int(values[0])) for (code, version), values in found.items() if values[0]]


def responses_by_channel(session: Session, unit_ids: Sequence[int], start: date, end: date) -> dict[str, int]:
    found = _summed(session, "responses_by_channel", unit_ids, start, end, None)
    return {str(channel): int(values[0]) for (channel,), values in found.items() if values[0]}


def paper_by_unit(session: Session, unit_ids: Sequence[int], start: date, end: date) -> dict[int, int]:
    """Paper ballots recorded per unit (the units with none left out)."""
    found = _summed(session, "responses_by_unit_and_channel", unit_ids, start, end, None)
    return {int(unit_id): int(values[0]) for (unit_id, channel), values in found.items()
            if str(channel) == ResponseChannel.PAPER.value and values[0]}


def negative_responses(session: Session, unit_ids: Sequence[int], start: date, end: date,
                       channel: ResponseChannel | None) -> int:
    found = _summed(session, "responses", unit_ids, start, end, channel)
    return sum(int(values[1] or 0) for values in found.values())
