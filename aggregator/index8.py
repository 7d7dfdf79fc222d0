"""Index 8 in reports: computed from the follow-up cases, unless staff entered it for the quarter (an override,
saved with a reason in ``aggregator_quarter_input``)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from aggregator.models import QuarterInput
from aggregator.queries import Scope, StaffFigures, quarters_overlapping
from sipas.cases.index8 import quarter_index8
from sipas.catalogue import Catalogue


def with_case_index8(session: Session, catalogue: Catalogue, scope: Scope, staff: StaffFigures) -> StaffFigures:
    """The staff figures with index 8 as (points, unit-quarters) over every unit and quarter of the scope."""
    quarters = quarters_overlapping(scope.period)
    q = QuarterInput
    overrides = {(u, y, n): p for u, y, n, p in session.execute(
        select(q.unit_id, q.year, q.quarter, q.index8_points).where(
            q.unit_id.in_(scope.unit_ids), tuple_(q.year, q.quarter).in_(quarters), q.index8_points.is_not(None)))}
    total = count = 0
    for unit_id in scope.unit_ids:
        for year, quarter in quarters:
            if (unit_id, year, quarter) in overrides:
                total, count = total + int(overrides[(unit_id, year, quarter)]), count + 1
                continue
            computed = quarter_index8(session, catalogue, unit_id, year, quarter, tz=scope.tz,
                                      today=scope.today or scope.as_of)
            if computed is not None:
                total, count = total + computed.points, count + 1
    points = {k: v for k, v in staff.index_points.items() if k != 8}
    if count:
        points[8] = (total, count)
    return replace(staff, index_points=points)
