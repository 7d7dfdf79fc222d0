"""District ranking of its wards by TT 01/2018 total (domain notes §2.4).

Each ward or commune below the district (or province) is scored on its own data. A ward without any
index data has no total and no class; it is listed last and left out of highest, lowest, average and
the class counts.
Equal totals share a rank (1, 1, 3).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aggregator import stats
from aggregator.report import make_scope, unit_scores
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Unit, UnitKind
from sipas.units import descendants


def rank(rows: list[dict[str, Any]], class_labels: list[str]) -> dict[str, Any]:
    """Order rows (each with ``total``) and add rank, highest, lowest, average and count per class."""
    scored = sorted((r for r in rows if r["total"] is not None), key=lambda r: (-r["total"], r["code"]))
    unscored = sorted((r for r in rows if r["total"] is None), key=lambda r: r["code"])
    previous, previous_rank = None, 0
    for position, row in enumerate(scored, start=1):
        row["rank"] = previous_rank if row["total"] == previous else position
        previous, previous_rank = row["total"], row["rank"]
    for row in unscored:
        row["rank"] = None
    totals = [Decimal(str(r["total"])) for r in scored]
    return {
        "units": scored + unscored,
        "highest": _brief(scored[0]) if scored else None,
        "lowest": _brief(scored[-1]) if scored else None,
        "average": stats.as_number(stats.average(totals)),
        "count_per_class": {label: sum(1 for r in scored if r["class"] == label) for label in class_labels},
        "scored_units": len(scored),
    }


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "total": row["total"], "class": row["class"]}


def build_ranking(session: Session, catalogue: Catalogue, district: Unit, period: Period, *, tz: tzinfo,
                  now: datetime) -> dict[str, Any]:
    wards = [u for u in descendants(session, district) if u.kind in (UnitKind.WARD, UnitKind.COMMUNE)]
    rows = []
    for ward in wards:
        scores = unit_scores(session, catalogue, make_scope([ward], period, tz=tz, now=now))
        rows.append({"code": ward.code, "name": ward.name, "indices": scores["indices"], "total": scores["total"],
                     "class": scores["class"], "class_code": scores["class_code"]})
    ranking = rank(rows, [c.label for c in catalogue.scoring.classes])
    return {
        "district": district.code, "district_name": district.name,
        "from": period.start.isoformat(), "to": period.end.isoformat(), "label": period.label_vi(),
        **ranking,
        "max_total": catalogue.scoring.max_total,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
    }
