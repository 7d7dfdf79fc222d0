"""Index 8 in reports: computed from the follow-up cases, unless staff entered it for the quarter (an override,
saved with a reason in ``aggregator_quarter_input``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from aggregator.models import QuarterInput
from aggregator.queries import Scope, StaffFigures, quarters_overlapping
from sipas.cases.index8 import index8_by_unit_quarter


def index8_by_unit(session: Session, scope: Scope) -> dict[int, tuple[int, int]]:
    """(points, unit-quarters with a value) of index 8 per unit of the scope: the staff's override of a quarter
    where entered, else the value computed from the unit's cases (no value when the unit had no rating)."""
    quarters = quarters_overlapping(scope.period)
    q = QuarterInput
    overrides = {(u, y, n): p for u, y, n, p in session.execute(
        select(q.unit_id, q.year, q.quarter, q.index8_points).where(
            q.unit_id.in_(scope.unit_ids), tuple_(q.year, q.quarter).in_(quarters), q.index8_points.is_not(None)))}
    computed = index8_by_unit_quarter(session, scope.unit_ids, quarters, tz=scope.tz,
                                      today=scope.today or scope.as_of)
    result: dict[int, tuple[int, int]] = {}
    for (unit_id, year, quarter), value in computed.items():
        override = overrides.get((unit_id, year, quarter))
        points = int(override) if override is not None else None if value is None else value.points
        if points is not None:
            total, count = result.get(unit_id, (0, 0))
            result[unit_id] = (total + points, count + 1)
    return result


def with_index8(staff: StaffFigures, per_unit: dict[int, tuple[int, int]], unit_ids: Sequence[int]) -> StaffFigures:
    """The staff figures with index 8 as (points, unit-quarters) over the given units."""
    total = sum(per_unit[u][0] for u in unit_ids if u in per_unit)
    count = sum(per_unit[u][1] for u in unit_ids if u in per_unit)
    points = {k: v for k, v in staff.index_points.items() if k != 8}
    if count:
        points[8] = (total, count)
    return replace(staff, index_points=points)


def with_case_index8(session: Session, scope: Scope, staff: StaffFigures) -> StaffFigures:
    """The staff figures with index 8 as (points, unit-quarters) over every unit and quarter of the scope."""
    return with_index8(staff, index8_by_unit(session, scope), scope.unit_ids)
