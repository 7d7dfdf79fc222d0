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

from aggregator import queries, stats
from aggregator.queries import Scope
from aggregator.report import dossier_section, index_points, make_scope, score_section
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


def scores_by_unit(session: Session, catalogue: Catalogue, scope: Scope) -> dict[int, dict[str, Any]]:
    """The TT 01/2018 scores of each unit of the scope alone, from one dossier pass and one answer pass
    grouped by unit (never the whole report once per ward)."""
    dossier_rows = queries.dossiers_by_unit(session, scope, catalogue.dissatisfied_answers())
    groups = queries.answer_groups_by_unit(session, scope)
    staff_by_unit = queries.staff_points_by_unit(session, scope.unit_ids, scope.period)
    result = {}
    for unit_id in scope.unit_ids:
        dossiers, _table = dossier_section([dossier_rows[unit_id]] if unit_id in dossier_rows else [])
        staff = staff_by_unit.get(unit_id, queries.StaffFigures({}, ()))
        points = queries.points_by_criterion(groups.get(unit_id, []))
        result[unit_id] = score_section(catalogue, index_points(catalogue, dossiers, points, staff))
    return result


def build_ranking(session: Session, catalogue: Catalogue, district: Unit, period: Period, *, tz: tzinfo,
                  now: datetime, recount: bool = False) -> dict[str, Any]:
    wards = [u for u in descendants(session, district) if u.kind in (UnitKind.WARD, UnitKind.COMMUNE)]
    all_scores = scores_by_unit(session, catalogue, make_scope(wards, period, tz=tz, now=now, recount=recount))
    rows = []
    for ward in wards:
        scores = all_scores[ward.id]
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
