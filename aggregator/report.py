"""The report of a unit (or a district: all its units) over a period, as plain JSON-ready data.

Definitions (domain notes §2.4, §3, §4):

- **Dossiers** (local calendar days, ``*_local_date``): *received* = received in the period, split
  *online* (trực tuyến một phần / toàn trình) and *in person and post* (trực tiếp và bưu chính);
  *carried over* (từ kỳ trước) = received before the period and not returned before its first day;
  *resolved* = returned in the period: *early* before the due date, *on time* on it (or no due date),
  *late* after it; *in progress* = received by the last day and not returned by it, *overdue* when
  its due date is before the last day, or before today while the period is still running.
  ``on_time_rate`` = (early + on time) ÷ resolved in percent, **0 when nothing was resolved**.
- **Responses** = responses submitted within the period's local days. ``response_rate`` (per
  instrument and per channel) = responses ÷ dossiers resolved in the period, in percent (0 when none
  was resolved); ``dossiers.rated_rate`` = resolved dossiers with at least one response ÷ resolved
  dossiers (the domain notes' wording): a dossier rated on two forms counts once, and
  ``rated_dossiers.rated_on_several_forms`` says how many resolved dossiers were. Paper ballots
  returned = paper responses; handed out = the clerk's quarterly input, only for a period of whole
  quarters all entered (``aggregator.ballots``).
- **Per criterion**: n = answers with an option ("not applicable" left out, counted apart);
  percentages by largest remainder (``aggregator.stats``); each option's ``ci95`` = the 95 % Wilson
  interval of count ÷ n, ``small_n`` = n < 30 (likewise ``overall.ci95`` and ``overall.small_n``).
- **TT 01/2018 scores**: indices 1 and 2 from resolved dossiers (early 2, on time 1, late 0); 3, 4 and
  7 from every citizen answer to a criterion mapped to that index (tt01_2018 cs3/cs4/cs7, hue12
  tc07/tc08/tc04); 5 and 6 from the staff inputs of the quarters overlapping the period; 8 from the
  follow-up cases of each unit and quarter (``sipas.cases.rules``) unless staff entered it for that quarter
  (an override with a reason); 9 from the
  online share of dossiers received and online dossiers late or overdue.
- **Dissatisfied** answer = an option the criterion set marks ``dissatisfied`` (every "Không hài
  lòng", and quay4 q3 "Không đúng hẹn"), never "0 points": "Phức tạp", "Trên 1 lần", "Trễ hẹn" are
  not. A **negative response** (follow-up) has at least one dissatisfied answer. **Overall
  satisfaction** = answers to *satisfaction criteria* (the criteria marked ``satisfaction``: hue12
  all, quay4 q1-q2, tt01_2018 cs7) that are not dissatisfied ÷ all answers to those criteria.
- **QĐ 766 ratio** = (all dossiers − dossiers late, overdue or with a dissatisfied answer) ÷ all
  dossiers, where all dossiers = resolved in the period + in progress at its end.
- A district's report pools all its units (staff inputs averaged over the units that entered them);
  the district ranking (``aggregator.ranking``) scores each ward alone.
- ``field`` limits dossiers and responses to one field (responses through their dossier);
  ``channel`` limits responses (not dossiers) to one response channel.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from aggregator import ballots, coverage, queries, stats
from aggregator.index8 import with_case_index8
from aggregator.labels import CHANNEL_LABELS
from sipas.catalogue import Catalogue, Instrument, Source
from sipas.clock import Period, local_date
from sipas.models import ResponseChannel, Unit

CITIZEN_INDICES = (3, 4, 7)


def make_scope(units: Sequence[Unit], period: Period, *, tz: tzinfo, now: datetime, field: str | None = None,
               channel: str | None = None, recount: bool = False) -> queries.Scope:
    start_utc, end_utc = period.utc_bounds(tz)
    return queries.Scope(
        unit_ids=tuple(u.id for u in units), period=period, start_utc=start_utc, end_utc=end_utc,
        as_of=min(period.end, local_date(now, tz)), field=field or None,
        channel=ResponseChannel(channel) if channel else None, tz=tz, today=local_date(now, tz), recount=recount,
    )


def dossier_section(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The totals and the Biểu II.06a rows (one per field, then a total row)."""
    total = {name: sum(r[name] for r in rows) for name in queries.DOSSIER_COLUMNS}
    table = [_field_row(r["field"] or "Chưa phân loại", r) for r in rows] + [_field_row("Tổng cộng", total)]
    table[-1]["is_total"] = True
    dossiers = {
        "received": total["received_online"] + total["received_direct_postal"],
        "received_online": total["received_online"], "received_direct_postal": total["received_direct_postal"],
        "carried_over": total["carried_over"], "resolved": total["resolved"], "early": total["early"],
        "on_time": total["on_time"], "late": total["late"], "in_progress": total["in_progress"],
        "in_progress_on_time": total["in_progress"] - total["in_progress_overdue"],
        "in_progress_overdue": total["in_progress_overdue"],
        "on_time_rate": stats.as_number(stats.on_time_rate(total["early"], total["on_time"], total["resolved"])),
        "rated": total["rated"], "rated_rate": float(stats.percent(total["rated"], total["resolved"])),
    }
    return dossiers | {"_online_late": total["online_late"], "_bad": total["unsatisfied_or_late"],
                       "_several_forms": total["rated_on_several_forms"]}, table


def _field_row(label: str, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "field": label, "received_total": r["received_online"] + r["received_direct_postal"] + r["carried_over"],
        "received_online": r["received_online"], "received_direct_postal": r["received_direct_postal"],
        "carried_over": r["carried_over"], "resolved": r["resolved"], "early": r["early"], "on_time": r["on_time"],
        "late": r["late"], "in_progress": r["in_progress"],
        "in_progress_on_time": r["in_progress"] - r["in_progress_overdue"],
        "in_progress_overdue": r["in_progress_overdue"],
        "on_time_rate": stats.as_number(stats.on_time_rate(r["early"], r["on_time"], r["resolved"])),
        "is_total": False,
    }


def index_points(catalogue: Catalogue, dossiers: dict[str, Any], points_rows: Sequence[tuple[str, str, str, int, int]],
                 staff: queries.StaffFigures) -> dict[int, tuple[int, int]]:
    """(points, count) per TT 01/2018 index from every source; indices without data are absent."""
    result: dict[int, tuple[int, int]] = {}
    if dossiers["resolved"]:
        pair = stats.timeliness_points(dossiers["early"], dossiers["on_time"], dossiers["late"])
        result[1] = result[2] = pair
    for code, version, criterion_code, points, count in points_rows:
        instrument = _instrument(catalogue, code, version)
        crit = instrument.criterion(criterion_code) if instrument else None
        if crit is None or crit.tt01_index not in CITIZEN_INDICES or crit.source is not Source.CITIZEN or not count:
            continue
        before = result.get(crit.tt01_index, (0, 0))
        result[crit.tt01_index] = (before[0] + points, before[1] + count)
    result.update(staff.index_points)
    online = stats.online_index_points(dossiers["received"], dossiers["received_online"], dossiers["_online_late"])
    if online is not None:
        result[9] = (online, 1)
    return result


def score_section(catalogue: Catalogue, points: dict[int, tuple[int, int]],
                  asked: Collection[int] = coverage.CITIZEN_INDICES) -> dict[str, Any]:
    """Index scores and total; a class only when all nine indices have data (``aggregator.coverage``)."""
    scores = stats.tt01_scores(points, catalogue.scoring)
    cov = coverage.coverage(scores.indices, asked)
    reason = coverage.class_reason(cov)
    return {
        "indices": {str(k): float(v) for k, v in scores.indices.items()},
        "total": stats.as_number(scores.total),
        "class": scores.class_label if cov.complete else None,
        "class_code": scores.class_code if cov.complete else None,
        "class_reason": reason,
        "class_reason_label": {None: None, "no_data": coverage.NO_DATA_CLASS_LABEL}.get(
            reason, coverage.INCOMPLETE_CLASS_LABEL),
        "max_total": catalogue.scoring.max_total,
        **cov.as_json(),
        "mean_per_index": stats.as_number(coverage.mean_per_index(scores.indices)),
    }


def score_basis(unit_count: int) -> dict[str, str]:
    """How a report's scores were formed: one unit, or pooled over every dossier and answer of several."""
    if unit_count <= 1:
        return {"basis": "unit", "basis_label": "điểm của riêng đơn vị"}
    return {"basis": "pooled",
            "basis_label": f"điểm gộp toàn bộ hồ sơ và phiếu của {unit_count} đơn vị (không phải trung bình các "
                           "đơn vị; có thể cao hơn từng đơn vị khi mỗi đơn vị thiếu một số chỉ số)"}


def forms_used(catalogue: Catalogue, units: Sequence[Unit], period: Period,
               groups: Sequence[queries.AnswerGroup]) -> set[tuple[str, str]]:
    """(code, version) of the forms answered in scope, plus each unit's default form (its kiosk, its ballot)."""
    used = {(code, version) for code, version, *_rest in groups}
    for unit in units:
        try:
            default = catalogue.current(unit.default_instrument, period.end)
        except (KeyError, LookupError):
            continue
        used.add((default.code, default.version))
    return used


def overall_counts(catalogue: Catalogue, groups: Sequence[queries.AnswerGroup]) -> tuple[int, int]:
    """(answers to satisfaction criteria, of which not dissatisfied), from the answer groups."""
    answers = satisfied = 0
    for code, version, criterion, option, count, _points in groups:
        instrument = _instrument(catalogue, code, version)
        if option is None or instrument is None or not instrument.is_satisfaction_criterion(criterion):
            continue
        answers += count
        if not instrument.is_dissatisfied(criterion, option):
            satisfied += count
    return answers, satisfied


def unit_scores(session: Session, catalogue: Catalogue, scope: queries.Scope,
                units: Sequence[Unit] = ()) -> dict[str, Any]:
    """Only the TT 01/2018 scores of a scope (used by the district ranking)."""
    dossiers, _table = dossier_section(queries.dossiers_by_field(session, scope, catalogue.dissatisfied_answers()))
    staff = with_case_index8(session, scope, queries.staff_inputs(session, scope.unit_ids, scope.period))
    groups = queries.answer_groups(session, scope)
    points = queries.points_by_criterion(groups)
    asked = coverage.asked_indices(catalogue, forms_used(catalogue, units, scope.period, groups))
    return score_section(catalogue, index_points(catalogue, dossiers, points, staff), asked)


def _instrument(catalogue: Catalogue, code: str, version: str) -> Instrument | None:
    try:
        return catalogue.version(code, version)
    except KeyError:
        return None


def instrument_section(catalogue: Catalogue, units: Sequence[Unit], period: Period,
                       responses: list[tuple[str, str, int]], groups: list[queries.AnswerGroup],
                       resolved: int) -> list[dict[str, Any]]:
    """Per instrument version: responses, response rate and per-criterion option counts and percentages."""
    per_version = {(code, version): n for code, version, n in responses}
    for unit in units:
        try:
            default = catalogue.current(unit.default_instrument, period.end)
        except (KeyError, LookupError):
            continue
        if not any(code == default.code for code, _version in per_version):
            per_version[(default.code, default.version)] = 0
    by_answer = {(i, v, c, o): n for i, v, c, o, n, _points in groups}
    order = {code: position for position, code in enumerate(catalogue.codes)}
    result = []
    for code, version in sorted(per_version, key=lambda key: (order.get(key[0], 99), key[0], key[1])):
        instrument = _instrument(catalogue, code, version)
        if instrument is None:
            continue
        criteria = []
        for criterion in instrument.citizen_criteria:
            option_counts = [by_answer.get((code, version, criterion.code, o.code), 0) for o in criterion.options]
            shares = stats.largest_remainder(option_counts)
            criteria.append({
                "code": criterion.code, "label": criterion.label, "short_label": criterion.short_label,
                "tt01_index": criterion.tt01_index, "tt01_note": criterion.tt01_note or None,
                "satisfaction": criterion.satisfaction, "n": sum(option_counts),
                "small_n": stats.is_small_n(sum(option_counts)),
                "not_applicable": by_answer.get((code, version, criterion.code, None), 0),
                "options": [{"code": o.code, "label": o.label, "points": o.points, "dissatisfied": o.dissatisfied,
                             "count": c, "percent": float(s), "ci95": stats.ci95(c, sum(option_counts))}
                            for o, c, s in zip(criterion.options, option_counts, shares, strict=True)],
            })
        n = per_version[(code, version)]
        result.append({"code": code, "version": version, "label": instrument.label, "responses": n,
                       "response_rate": float(stats.percent(n, resolved)), "criteria": criteria})
    return result


def rated_dossiers_section(dossiers: dict[str, Any], several_forms: int) -> dict[str, Any]:
    """The response rate by distinct dossiers: a dossier rated on two forms counts once."""
    return {"rated": dossiers["rated"], "resolved": dossiers["resolved"], "percent": dossiers["rated_rate"],
            "ci95": stats.ci95(dossiers["rated"], dossiers["resolved"]),  # rated ⊆ resolved
            "rated_on_several_forms": several_forms, "basis": "distinct_dossiers"}


def paper_ballots_section(period: Period, staff: queries.StaffFigures, returned: int, *,
                          returned_by: Collection[int] = (), by_field: bool = False) -> dict[str, Any]:
    """Handed out (only for whole quarters, of every unit with ballots, see ``aggregator.ballots``), returned and
    the return rate."""
    out = ballots.handed_out(period, queries.quarters_overlapping(period), staff.ballots, returned_by=returned_by,
                             by_field=by_field)
    relevant = returned > 0 or bool(staff.ballots)  # a unit that uses no paper gets no note
    return {"handed_out": out.count, "returned": returned,
            "return_rate": float(stats.percent(returned, out.count)) if out.count else None,
            "handed_out_status": out.status, "note": out.note if relevant else None}


def build_report(session: Session, catalogue: Catalogue, units: list[Unit], period: Period, *, tz: tzinfo,
                 now: datetime, unit_label: str, field: str | None = None,
                 channel: str | None = None, recount: bool = False) -> dict[str, Any]:
    """The whole report; ``units[0]`` names it (a district comes first in ``descendants``). ``recount``
    reads every raw row instead of the tallies (the reference the property test compares with)."""
    scope = make_scope(units, period, tz=tz, now=now, field=field, channel=channel, recount=recount)
    dissatisfied = catalogue.dissatisfied_answers()
    dossiers, table = dossier_section(queries.dossiers_by_field(session, scope, dissatisfied))
    resolved = dossiers["resolved"]
    staff = with_case_index8(session, scope, queries.staff_inputs(session, scope.unit_ids, period))
    groups = queries.answer_groups(session, scope)
    points = index_points(catalogue, dossiers, queries.points_by_criterion(groups), staff)
    by_channel = queries.responses_by_channel(session, scope)
    answers, satisfied = overall_counts(catalogue, groups)
    overall_shares = stats.largest_remainder([satisfied, answers - satisfied])
    all_dossiers = dossiers["resolved"] + dossiers["in_progress"]
    bad = dossiers.pop("_bad")
    dossiers.pop("_online_late")
    several_forms = dossiers.pop("_several_forms")
    returned_paper = by_channel.get(ResponseChannel.PAPER.value, 0)
    by_id = {u.id: u for u in units}  # a district's comments name their ward
    scores = score_section(catalogue, points,
                           coverage.asked_indices(catalogue, forms_used(catalogue, units, period, groups)))
    scores |= score_basis(len(units))
    return {
        "unit": units[0].code, "unit_name": unit_label, "units": [u.code for u in units],
        "from": period.start.isoformat(), "to": period.end.isoformat(),
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "label": period.label_vi(),
                   "as_of": scope.as_of.isoformat(), "field": scope.field,
                   "channel": str(scope.channel) if scope.channel else None},
        "dossiers": dossiers,
        "rated_dossiers": rated_dossiers_section(dossiers, several_forms),
        "fields": table,
        "instruments": instrument_section(catalogue, units, period, queries.responses_by_instrument(session, scope),
                                          groups, resolved),
        "responses": sum(by_channel.values()) if scope.channel is None else by_channel.get(str(scope.channel), 0),
        "channels": [{"code": c.value, "label": CHANNEL_LABELS[c], "responses": by_channel.get(c.value, 0),
                      "response_rate": float(stats.percent(by_channel.get(c.value, 0), resolved))}
                     for c in ResponseChannel],
        "paper_ballots": paper_ballots_section(
            period, staff, returned_paper, by_field=scope.field is not None,
            returned_by=(queries.paper_by_unit(session, scope) if returned_paper and len(units) > 1
                         else [units[0].id] if returned_paper else [])),
        "overall": {"answers": answers, "satisfied": satisfied, "dissatisfied": answers - satisfied,
                    "percent": float(overall_shares[0]), "ci95": stats.ci95(satisfied, answers),
                    "small_n": stats.is_small_n(answers),
                    "negative_responses": queries.negative_responses(session, scope, dissatisfied)},
        "satisfaction_766": {"total_dossiers": all_dossiers, "unsatisfied_or_late": bad,
                             "percent": float(stats.satisfaction_766(all_dossiers, bad))},
        "scores": scores,
        "comments": [
            {"id": rid, "submitted_at": at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
             "local_date": local_date(at, tz).isoformat(), "channel": str(ch), "instrument": instrument,
             "comment": comment, "negative": bool(negative), "unit": by_id[unit_id].code,
             "unit_name": by_id[unit_id].name}
            for rid, at, ch, instrument, comment, negative, unit_id
            in queries.recent_comments(session, scope, dissatisfied)
        ],
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
    }
