"""Reading figures out of a report dict (``aggregator.report.build_report`` output, or a frozen copy).

One place knows the report's key names, so the view-model stays readable and a renamed key is one
edit. Values come back as plain numbers; formatting is the view-model's job.
"""

from __future__ import annotations

from datetime import date
from typing import Any

CHANNEL_LABELS = {
    "kiosk": "thiết bị đánh giá tại quầy",
    "sms": "tin nhắn SMS",
    "qr": "mã QR",
    "paper": "phiếu giấy",
    "api": "hệ thống một cửa điện tử",
}
SATISFIED = ("rat_hai_long", "hai_long")


def period(report: dict[str, Any]) -> tuple[date, date]:
    return date.fromisoformat(str(report["from"])[:10]), date.fromisoformat(str(report["to"])[:10])


def dossiers(report: dict[str, Any]) -> dict[str, Any]:
    """The dossier totals with the Biểu II.06a breakdown filled from the field total row if needed."""
    totals = _flat(dict(report.get("dossiers") or {}))
    total_row = fields_total(report)
    for key, value in total_row.items():
        totals.setdefault(key, value)
    totals.setdefault("in_progress_in_time", _minus(totals.get("in_progress"), totals.get("in_progress_overdue")))
    totals.setdefault("received_direct", _minus(totals.get("received"), totals.get("received_online")))
    if isinstance(totals.get("received"), int) and isinstance(totals.get("carried_over"), int):
        totals["received_total"] = totals["received"] + totals["carried_over"]
    if totals.get("on_time_rate") is None and totals.get("resolved"):
        totals["on_time_rate"] = 100 * (totals.get("early", 0) + totals.get("on_time", 0)) / totals["resolved"]
    if not totals.get("resolved"):  # a rate over nothing is unknown, not 0 %
        totals["on_time_rate"] = totals["rated_rate"] = None
    return totals


def _minus(a: Any, b: Any) -> int | None:
    return a - b if isinstance(a, int) and isinstance(b, int) else None


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Accept both flat rows and rows nested as {"received": {"total", "online", ...}, ...}."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                name = key if sub == "total" else f"{key}_{sub}"
                flat[name] = sub_value
        else:
            flat[key] = value
    aliases = {"received_direct_postal": "received_direct", "received_direct_and_postal": "received_direct",
               "in_progress_on_time": "in_progress_in_time", "received_carried_over": "carried_over",
               "resolved_early": "early", "resolved_on_time": "on_time", "resolved_late": "late",
               "in_progress_overdue": "in_progress_overdue"}
    for old, new in aliases.items():
        if old in flat and new not in flat:
            flat[new] = flat[old]
    return flat


def fields(report: dict[str, Any]) -> list[dict[str, Any]]:
    raw = report.get("fields") or []
    rows = raw.get("rows", []) if isinstance(raw, dict) else raw
    return [_flat(r) for r in rows if not _is_total(r)]


def _is_total(row: dict[str, Any]) -> bool:
    return bool(row.get("is_total")) or row.get("field") in ("Tổng số", "Tổng cộng", "total")


def fields_total(report: dict[str, Any]) -> dict[str, Any]:
    raw = report.get("fields") or []
    if isinstance(raw, dict) and isinstance(raw.get("total"), dict):
        return _flat(raw["total"])
    for row in raw if isinstance(raw, list) else []:
        if _is_total(row):
            return _flat(row)
    return {}


def total_responses(report: dict[str, Any]) -> int:
    if isinstance(report.get("responses"), int):
        return report["responses"]
    overall = report.get("overall") or {}
    if isinstance(overall, dict) and isinstance(overall.get("responses"), int):
        return overall["responses"]
    return sum(int(i.get("responses") or 0) for i in report.get("instruments", []))


def response_rate(report: dict[str, Any], responses: int, resolved: int | None) -> float | None:
    """Dossiers rated ÷ dossiers resolved (domain notes §3), else responses ÷ resolved."""
    if not resolved:
        return None
    rated_rate = (report.get("dossiers") or {}).get("rated_rate")
    if rated_rate is not None:
        return float(rated_rate)
    overall = report.get("overall") or {}
    if isinstance(overall, dict) and overall.get("response_rate") is not None:
        return float(overall["response_rate"])
    return 100 * responses / resolved if resolved else None


def channels(report: dict[str, Any]) -> list[tuple[str, int]]:
    raw = report.get("channels") or []
    items = [{"channel": k, **(v if isinstance(v, dict) else {"responses": v})} for k, v in raw.items()] \
        if isinstance(raw, dict) else list(raw)
    result = []
    for item in items:
        code = str(item.get("channel") or item.get("code") or "")
        count = int(item.get("responses") or item.get("count") or 0)
        if count:
            result.append((CHANNEL_LABELS.get(code) or str(item.get("label") or code).lower(), count))
    return result


def paper_ballots(report: dict[str, Any]) -> tuple[int, int]:
    paper = report.get("paper_ballots") or {}
    return int(paper.get("handed_out") or 0), int(paper.get("returned") or 0)


def overall_percent(report: dict[str, Any]) -> float | None:
    """(Rất hài lòng + Hài lòng) over all answers of satisfaction-scale criteria, unless the report says."""
    overall = report.get("overall") or {}
    if isinstance(overall, dict) and overall.get("answers") == 0:
        return None
    if isinstance(overall, dict):
        for key in ("satisfied_percent", "satisfaction_percent", "percent", "satisfied_rate"):
            if overall.get(key) is not None:
                return float(overall[key])
    elif isinstance(overall, int | float):
        return float(overall)
    satisfied = answered = 0
    for instrument in report.get("instruments", []):
        for criterion in instrument.get("criteria", []):
            codes = {o["code"] for o in criterion.get("options", [])}
            if set(SATISFIED) <= codes:
                answered += int(criterion.get("n") or 0)
                satisfied += sum(int(o["count"]) for o in criterion["options"] if o["code"] in SATISFIED)
    return 100 * satisfied / answered if answered else None


def satisfaction_766(report: dict[str, Any]) -> float | None:
    value = report.get("satisfaction_766")
    if isinstance(value, dict) and value.get("total_dossiers") == 0:
        return None
    if isinstance(value, dict):
        for key in ("percent", "ratio", "rate", "value"):
            if value.get(key) is not None:
                return float(value[key])
        return None
    return float(value) if isinstance(value, int | float) else None
