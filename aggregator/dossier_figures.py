"""The dossier handling figures of a period (Biểu II.06a) from ``dossier_event_tally`` (issue 14, goal 2).

``aggregator.queries._dossier_counts`` states each figure per dossier and reads every dossier of the scope; at
1.1 M dossiers that took 2.5 s for a province. Here every figure is a sum of one-day events
(``sipas.dossier_events``), because a dossier is never returned before it was received nor due before it was
received (``sipas.dossiers.DossierInput.check``; the imports apply the same check):

- in the period's scope (received ≤ end, not returned before start) = received ≤ end − returned < start;
- carried over = received < start − returned < start; received in the period, resolved, early / on time /
  late, rated: one event within the period;
- in progress = received ≤ end − returned ≤ end;
- overdue (in progress ∧ due < as_of, with as_of ≤ end) = due < as_of − (returned ≤ end ∧ due < as_of), and
  returned ≤ as_of ∧ due < as_of is one day, ``cleared`` = max(returned, due + 1) ≤ as_of; the dossiers
  returned within (as_of, end] with due < as_of, which no one-day event holds, are read from the dossiers
  (none once the period is over, as_of = end);
- "dissatisfied or late" = late + overdue + (in scope ∧ dissatisfied) − (late ∧ dissatisfied) − (overdue ∧
  dissatisfied): late and overdue never hold together.

Each comparison is one event day against ``start``, ``end + 1``, ``as_of`` or ``as_of + 1``: a prefix sum
(events before a day), read as whole years before the period's from the year rows, whole months from the month
rows and the rest of that month from the day rows: a year of history adds a year's rows to read, not twelve
months' (``bench/report_history.py``).
``figures_from_events`` is the algebra, checked against the per-dossier definition on random dossiers
(``tests/aggregator/test_dossier_figures.py``); the reports are checked against the per-dossier SQL on random
data with edits (``tests/aggregator/test_tally_property.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from sipas.models import Dossier, IntakeChannel
from sipas.models_tally import DossierEventTally

DOSSIER_COLUMNS = ("received_online", "received_direct_postal", "carried_over", "resolved", "early", "on_time",
                   "late", "in_progress", "in_progress_overdue", "online_late", "unsatisfied_or_late", "rated",
                   "rated_on_several_forms")
RECEIVED, RETURNED, DUE, CLEARED = "received", "returned", "due", "cleared"
ONLINE = tuple(channel for channel in IntakeChannel if channel.is_online)


@dataclass(frozen=True)
class Event:
    """Dossiers counted on one local day for one event (``forms`` and ``handling``: the returned event's)."""

    kind: str
    day: date
    online: bool
    negative: bool
    forms: int  # forms that rated the dossier: 0, 1, 2 (two or more)
    handling: str | None  # early / on_time / late
    dossiers: int


def handling_class(returned: date, due: date | None) -> str:
    """Handling class of a returned dossier: ``early``, ``on_time`` (also without a due day) or ``late``."""
    if due is None or returned == due:
        return "on_time"
    return "early" if returned < due else "late"


def figures_from_events(events: Iterable[Event], start: date, end: date, as_of: date,
                        returned_after_as_of: Iterable[tuple[bool, bool, int]] = ()) -> dict[str, int]:
    """The ``DOSSIER_COLUMNS`` of one group from its events, for ``as_of ≤ end`` (the report's
    ``min(period end, today)``); ``returned_after_as_of``: (online, dissatisfied, dossiers) returned within
    (as_of, end] with a due day before as_of."""
    if as_of > end:
        raise ValueError("as_of after the end of the period")
    out = dict.fromkeys(DOSSIER_COLUMNS, 0)
    scope_negative = late_negative = overdue_negative = 0

    def overdue(n: int, online: bool, negative: bool) -> None:
        nonlocal overdue_negative
        out["in_progress_overdue"] += n
        out["online_late"] += n if online else 0
        overdue_negative += n if negative else 0

    for e in events:
        n, neg = e.dossiers, (e.dossiers if e.negative else 0)
        if e.kind == RECEIVED and e.day <= end:
            if e.day >= start:
                out["received_online" if e.online else "received_direct_postal"] += n
            else:
                out["carried_over"] += n
            out["in_progress"] += n
            scope_negative += neg
        elif e.kind == RETURNED and e.day <= end:
            out["in_progress"] -= n
            if e.day < start:
                out["carried_over"] -= n
                scope_negative -= neg
                continue
            out["resolved"] += n
            out[e.handling or "on_time"] += n
            out["rated"] += n if e.forms > 0 else 0
            out["rated_on_several_forms"] += n if e.forms > 1 else 0
            if e.handling == "late":
                out["online_late"] += n if e.online else 0
                late_negative += neg
        elif e.kind == DUE and e.day < as_of:
            overdue(n, e.online, e.negative)
        elif e.kind == CLEARED and e.day <= as_of:
            overdue(-n, e.online, e.negative)
    for online, negative, n in returned_after_as_of:
        overdue(-n, online, negative)
    out["unsatisfied_or_late"] = (out["late"] + out["in_progress_overdue"] + scope_negative - late_negative
                                  - overdue_negative)
    return out


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Prefix:
    """Events of ``kinds`` before ``day``: the year rows before ``year``, the month rows in [``year``,
    ``month``), plus (``sign`` 1) or minus (``sign`` -1) the day rows in [``first``, ``last``): the nearer
    month boundary, so a period ending on the last day of a month reads month rows and one day, never a month
    of day rows. ``year`` is never after the first day of the period's first year: the year rows hold no
    class and no forms (``sipas.dossier_events``), which only the events within the period need."""

    kinds: tuple[str, ...]
    year: date
    month: date
    first: date
    last: date
    sign: int

    @classmethod
    def before(cls, day: date, kinds: tuple[str, ...], start: date) -> Prefix:
        low, high = day.replace(day=1), _next_month(day.replace(day=1))
        month, first, last, sign = (low, low, day, 1) if day - low <= high - day else (high, day, high, -1)
        return cls(kinds, min(month.replace(month=1), start.replace(month=1, day=1)), month, first, last, sign)


def read_figures(session: Session, unit_ids: Sequence[int], start: date, end: date, as_of: date,
                 field: str | None, by_unit: bool) -> dict[Any, dict[str, int]]:
    """The figures of every field (or unit, ``by_unit``) with a dossier in scope, sorted by that key.

    One query sums the year rows before the period's first year into the four prefixes, one the month rows
    from that year on, one per prefix its few day rows (each a range of the tally's key index per unit)."""
    sides = (RECEIVED, RETURNED)
    prefixes = (Prefix.before(start, sides, start), Prefix.before(end + timedelta(days=1), sides, start),
                Prefix.before(as_of, (DUE,), start), Prefix.before(as_of + timedelta(days=1), (CLEARED,), start))
    years, months, days = _statements(by_unit, field is not None)
    scope: dict[str, Any] = {"units": list(unit_ids), "field": field}
    bounds = {**{f"year{i}": p.year for i, p in enumerate(prefixes)},
              **{f"month{i}": p.month for i, p in enumerate(prefixes)}}
    sums: dict[tuple[Any, ...], list[int]] = {}
    whole = [(years, {"before": max(p.year for p in prefixes)})]
    if any(p.year < p.month for p in prefixes):
        whole.append((months, {"first": min(p.year for p in prefixes), "before": max(p.month for p in prefixes)}))
    for stmt, limits in whole:
        for *key, a, b, c, d in session.execute(stmt, scope | bounds | limits):
            found = sums.setdefault(tuple(key), [0, 0, 0, 0])
            for i, n in enumerate((a, b, c, d)):
                found[i] += int(n or 0)
    for i, p in enumerate(prefixes):
        if p.first == p.last:
            continue
        for *key, n in session.execute(days[i], scope | {"first": p.first, "before": p.last}):
            sums.setdefault(tuple(key), [0, 0, 0, 0])[i] += p.sign * int(n or 0)
    events: dict[Any, list[Event]] = {}
    before_start, before_as_of = start - timedelta(days=1), as_of - timedelta(days=1)
    for (value, kind, online, negative, forms, handling), (p_start, p_end, p_as_of, p_as_of_1) in sums.items():
        flags = (bool(online), bool(negative), int(forms), handling or None)
        found = events.setdefault(value, [])
        if kind in sides:  # before the period, and within it
            found.append(Event(kind, before_start, *flags, p_start))
            found.append(Event(kind, start, *flags, p_end - p_start))
        elif kind == DUE:
            found.append(Event(kind, before_as_of, *flags, p_as_of))
        else:
            found.append(Event(kind, as_of, *flags, p_as_of_1))
    after = _returned_after_as_of(session, unit_ids, end, as_of, field, by_unit) if as_of < end else {}
    out = {}
    for value in sorted(events, key=lambda v: (v is None, v)):
        counts = figures_from_events(events[value], start, end, as_of, after.get(value, ()))
        if any(counts.values()):  # a group with a dossier in scope has one received or carried over
            out[value] = counts
    return out


PREFIX_KINDS = ((RECEIVED, RETURNED), (RECEIVED, RETURNED), (DUE,), (CLEARED,))  # the order of ``prefixes``


@functools.cache
def _statements(by_unit: bool, by_field: bool) -> tuple[Select[Any], Select[Any], tuple[Select[Any], ...]]:
    """The year, month and (per prefix) day statements of ``read_figures``, built once with bound parameters: a
    report is read often and building four ``CASE`` sums per statement cost more than a ward's rows."""
    t = DossierEventTally
    keys = (t.unit_id if by_unit else t.field, t.kind, t.online, t.negative, t.forms, t.handling)
    scope = [t.unit_id.in_(bindparam("units", expanding=True))] + ([t.field == bindparam("field")] if by_field else [])

    def summed(grain: str, within: Callable[[int], ColumnElement[bool]], first: bool) -> Select[Any]:
        sums = [func.sum(case((and_(t.kind.in_(kinds), within(i)), t.dossiers), else_=0))
                for i, kinds in enumerate(PREFIX_KINDS)]
        low = [t.local_date >= bindparam("first")] if first else []
        return (select(*keys, *sums).where(*scope, t.grain == grain, *low, t.local_date < bindparam("before"))
                .group_by(*keys))

    years = summed("year", lambda i: t.local_date < bindparam(f"year{i}"), first=False)
    months = summed("month", lambda i: and_(t.local_date >= bindparam(f"year{i}"),
                                            t.local_date < bindparam(f"month{i}")), first=True)
    days = tuple(select(*keys, func.sum(t.dossiers)).where(
        *scope, t.grain == "day", t.local_date >= bindparam("first"), t.local_date < bindparam("before"),
        t.kind.in_(kinds)).group_by(*keys) for kinds in PREFIX_KINDS)
    return years, months, days


def _returned_after_as_of(session: Session, unit_ids: Sequence[int], end: date, as_of: date, field: str | None,
                          by_unit: bool) -> dict[Any, list[tuple[bool, bool, int]]]:
    """Dossiers returned within (as_of, end] with a due day before as_of, from the dossier rows (a range of the
    return-day index; for a period still running, the dossiers returned after today: next to none)."""
    d = Dossier
    group = d.unit_id if by_unit else d.field
    online, negative = d.intake_channel.in_(ONLINE), d.negative_responses > 0
    stmt = (select(group, online, negative, func.count())
            .where(d.returned_local_date > as_of, d.returned_local_date <= end, d.due_local_date < as_of,
                   d.unit_id.in_(unit_ids))
            .group_by(group, online, negative))
    if field is not None:
        stmt = stmt.where(d.field == field)
    out: dict[Any, list[tuple[bool, bool, int]]] = {}
    for value, is_online, is_negative, n in session.execute(stmt):
        out.setdefault(value, []).append((bool(is_online), bool(is_negative), int(n)))
    return out
