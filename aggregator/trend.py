"""The overall satisfaction rate over the last quarters, each with its 95 % Wilson interval (issue 11 §4).

One point per calendar quarter, the last being the quarter that contains the period's last day, so a
dashboard opened on any period shows where it sits. Each point keeps its n: a quarter without answers
has no rate (a gap, never 0 %), one with fewer than 30 is "ít phiếu". Counting reuses the report's own
``queries.answer_groups`` and ``report.overall_counts``, so a point equals the report of that quarter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from aggregator import queries, stats
from aggregator.report import make_scope, overall_counts
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Unit

ROMAN = ("I", "II", "III", "IV")


def quarters_back(period: Period, count: int = 4) -> list[Period]:
    """``count`` consecutive quarters, oldest first, ending with the one containing ``period.end``."""
    year, quarter = period.end.year, (period.end.month - 1) // 3 + 1
    result = []
    for _ in range(count):
        result.append(Period.quarter(year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return result[::-1]


def trend_point(label: str, quarter: Period, answers: int, satisfied: int) -> dict[str, Any]:
    shares = stats.largest_remainder([satisfied, answers - satisfied])
    return {"label": label, "from": quarter.start.isoformat(), "to": quarter.end.isoformat(), "answers": answers,
            "satisfied": satisfied, "percent": float(shares[0]) if answers else None,
            "ci95": stats.ci95(satisfied, answers), "small_n": answers > 0 and stats.is_small_n(answers)}


def satisfaction_trend(session: Session, catalogue: Catalogue, units: Sequence[Unit], period: Period, *,
                       tz: tzinfo, now: datetime, count: int = 4) -> list[dict[str, Any]]:
    """The overall satisfaction of ``units`` in each of the last ``count`` quarters (see the module docstring)."""
    points = []
    for quarter in quarters_back(period, count):
        scope = make_scope(units, quarter, tz=tz, now=now)
        answers, satisfied = overall_counts(catalogue, queries.answer_groups(session, scope))
        label = f"Quý {ROMAN[(quarter.start.month - 1) // 3]}/{quarter.start.year}"
        points.append(trend_point(label, quarter, answers, satisfied))
    return points
