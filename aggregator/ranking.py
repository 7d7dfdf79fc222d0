"""District ranking of its wards by TT 01/2018 total (domain notes §2.4, issue 11 §3).

Each ward or commune below the district (or province) is scored on its own data, in three groups:

- **ranked** (``group = "ranked"``): all nine indices have data; ranked by total, equal totals share a
  rank (1, 1, 3); only these make highest, lowest, average and the class counts.
- **incomplete** (``"incomplete"``): some indices missing (``indices_missing`` says which and why);
  no rank and no class (``class`` null, ``class_reason`` ``incomplete_indices``), never scored as if
  the missing indices were 0. They are ranked apart (``rank_apart``) by their mean per available index.
- **no data** (``"no_data"``): no index at all; listed last.

The ranking's ``average`` is the mean of the ranked units' totals (``average_basis = "mean_of_units"``),
unlike a district's own report, whose scores pool every dossier and answer of its units
(``scores.basis = "pooled"``) and can therefore exceed every unit (it has data for indices a unit lacks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aggregator import coverage, queries, stats
from aggregator.index8 import index8_by_unit, with_index8
from aggregator.queries import Scope
from aggregator.report import dossier_section, forms_used, index_points, make_scope, score_section
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Unit, UnitKind
from sipas.units import descendants

RANKING_SCORE_KEYS = ("class_reason", "class_reason_label", "indices_available", "indices_missing", "coverage",
                      "mean_per_index")


def rank(rows: list[dict[str, Any]], class_labels: list[str]) -> dict[str, Any]:
    """Order rows (each with ``total``, ``indices_available``, ``mean_per_index``) into the three groups."""
    scored = sorted((r for r in rows if r["total"] is not None and r["class_reason"] is None),
                    key=lambda r: (-r["total"], r["code"]))
    apart = sorted((r for r in rows if r["total"] is not None and r["class_reason"] is not None),
                   key=lambda r: (-r["mean_per_index"], -len(r["indices_available"]), r["code"]))
    unscored = sorted((r for r in rows if r["total"] is None), key=lambda r: r["code"])
    _number(scored, "rank", "total")
    _number(apart, "rank_apart", "mean_per_index")
    for row in scored:
        row["group"], row["rank_apart"] = "ranked", None
    for row in apart:
        row["group"], row["rank"] = "incomplete", None
    for row in unscored:
        row["group"], row["rank"], row["rank_apart"] = "no_data", None, None
    totals = [Decimal(str(r["total"])) for r in scored]
    return {
        "units": scored + apart + unscored,
        "highest": _brief(scored[0]) if scored else None,
        "lowest": _brief(scored[-1]) if scored else None,
        "average": stats.as_number(stats.average(totals)),
        "average_basis": "mean_of_units",
        "average_label": f"trung bình cộng tổng điểm của {len(scored)} đơn vị đủ 9 chỉ số (không gộp hồ sơ)",
        "count_per_class": {label: sum(1 for r in scored if r["class"] == label) for label in class_labels},
        "scored_units": len(scored),
        "incomplete_units": len(apart),
        "units_without_data": len(unscored),
    }


def _number(rows: list[dict[str, Any]], key: str, by: str) -> None:
    """Ranks 1, 1, 3 on equal ``by`` values."""
    previous, previous_rank = None, 0
    for position, row in enumerate(rows, start=1):
        row[key] = previous_rank if row[by] == previous else position
        previous, previous_rank = row[by], row[key]


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "total": row["total"], "class": row["class"]}


def scores_by_unit(session: Session, catalogue: Catalogue, scope: Scope,
                   units: Sequence[Unit]) -> dict[int, dict[str, Any]]:
    """The TT 01/2018 scores of each unit of the scope alone, from one dossier pass and one answer pass
    grouped by unit (never the whole report once per ward); index 8 from each unit's follow-up cases and the
    coverage from the forms each unit used, as ``aggregator.report.unit_scores`` does for one scope."""
    dossier_rows = queries.dossiers_by_unit(session, scope, catalogue.dissatisfied_answers())
    groups = queries.answer_groups_by_unit(session, scope)
    staff_by_unit = queries.staff_points_by_unit(session, scope.unit_ids, scope.period)
    index8 = index8_by_unit(session, scope)
    result = {}
    for unit in units:
        dossiers, _table = dossier_section([dossier_rows[unit.id]] if unit.id in dossier_rows else [])
        staff = with_index8(staff_by_unit.get(unit.id, queries.StaffFigures({}, ())), index8, [unit.id])
        unit_groups = groups.get(unit.id, [])
        points = queries.points_by_criterion(unit_groups)
        asked = coverage.asked_indices(catalogue, forms_used(catalogue, [unit], scope.period, unit_groups))
        result[unit.id] = score_section(catalogue, index_points(catalogue, dossiers, points, staff), asked)
    return result


def build_ranking(session: Session, catalogue: Catalogue, district: Unit, period: Period, *, tz: tzinfo,
                  now: datetime, recount: bool = False) -> dict[str, Any]:
    wards = [u for u in descendants(session, district) if u.kind in (UnitKind.WARD, UnitKind.COMMUNE)]
    all_scores = scores_by_unit(session, catalogue, make_scope(wards, period, tz=tz, now=now, recount=recount),
                                wards)
    rows = []
    for ward in wards:
        scores = all_scores[ward.id]
        rows.append({"code": ward.code, "name": ward.name, "indices": scores["indices"], "total": scores["total"],
                     "class": scores["class"], "class_code": scores["class_code"]}
                    | {key: scores[key] for key in RANKING_SCORE_KEYS})
    ranking = rank(rows, [c.label for c in catalogue.scoring.classes])
    return {
        "district": district.code, "district_name": district.name,
        "from": period.start.isoformat(), "to": period.end.isoformat(), "label": period.label_vi(),
        **ranking,
        "max_total": catalogue.scoring.max_total,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
    }
