"""Reading figures out of a report dict (``aggregator.report.build_report`` output, or a frozen copy).

One place knows the report's key names, so the view-model stays readable and a renamed key is one
edit. Values come back as plain numbers, ``None`` when a rate has no denominator; formatting is the
view-model's job.
"""

from __future__ import annotations

from datetime import date
from typing import Any

CHANNEL_LABELS = {
    "kiosk": "thiết bị đánh giá tại quầy",
    "sms": "tin nhắn SMS",
    "qr": "mã QR",
    "zalo": "tin Zalo (ZNS)",  # a brand: never lower-cased
    "paper": "phiếu giấy",
    "api": "hệ thống một cửa điện tử",
}
# The report's names → the notice's (Biểu II.06a wording: "trực tiếp và bưu chính", "trong hạn").
ALIASES = {"received_direct_postal": "received_direct", "in_progress_on_time": "in_progress_in_time"}


def period(report: dict[str, Any]) -> tuple[date, date]:
    return date.fromisoformat(str(report["from"])[:10]), date.fromisoformat(str(report["to"])[:10])


def _renamed(row: dict[str, Any]) -> dict[str, Any]:
    return {ALIASES.get(key, key): value for key, value in row.items()}


def dossiers(report: dict[str, Any]) -> dict[str, Any]:
    """Dossier totals; ``received_total`` includes the dossiers carried over; rates over nothing are None."""
    totals = _renamed(report.get("dossiers") or {})
    totals["received_total"] = fields_total(report).get("received_total",
                                                        totals.get("received", 0) + totals.get("carried_over", 0))
    if not totals.get("resolved"):
        totals["on_time_rate"] = totals["rated_rate"] = None
    return totals


def _is_total(row: dict[str, Any]) -> bool:
    return bool(row.get("is_total"))


def fields(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The Biểu II.06a rows, one per field, without the total row."""
    return [_renamed(row) for row in report.get("fields") or [] if not _is_total(row)]


def fields_total(report: dict[str, Any]) -> dict[str, Any]:
    return next((_renamed(row) for row in report.get("fields") or [] if _is_total(row)), {})


def total_responses(report: dict[str, Any]) -> int:
    if isinstance(report.get("responses"), int):
        return report["responses"]
    return sum(int(i.get("responses") or 0) for i in report.get("instruments", []))


def response_rate(report: dict[str, Any], responses: int, resolved: int | None) -> float | None:
    """Dossiers rated ÷ dossiers resolved (domain notes §3); older reports: responses ÷ resolved."""
    if not resolved:
        return None
    rated_rate = (report.get("dossiers") or {}).get("rated_rate")
    return float(rated_rate) if rated_rate is not None else 100 * responses / resolved


def channels(report: dict[str, Any]) -> list[tuple[str, int]]:
    """(label, responses) of the channels that brought responses, in the report's order."""
    result = []
    for item in report.get("channels") or []:
        count = int(item.get("responses") or 0)
        if count:
            code = str(item.get("code") or "")
            label = CHANNEL_LABELS.get(code) or str(item.get("label") or code)
            # in running text only the first letter is lowered: "Tin Zalo (ZNS)" had become "tin zalo (zns)"
            result.append((label[:1].lower() + label[1:], count))
    return result


def paper_ballots(report: dict[str, Any]) -> tuple[int, int, str]:
    """(handed out, 0 when unknown; returned; why handed out is unknown, "" when known or irrelevant)."""
    paper = report.get("paper_ballots") or {}
    handed_out = int(paper.get("handed_out") or 0)
    return handed_out, int(paper.get("returned") or 0), "" if handed_out else str(paper.get("note") or "")


def overall_percent(report: dict[str, Any]) -> float | None:
    """Answers at a satisfied level ÷ all answers with an option; None without answers."""
    overall = report.get("overall") or {}
    if not overall.get("answers") or overall.get("percent") is None:
        return None
    return float(overall["percent"])


def satisfaction_766(report: dict[str, Any]) -> float | None:
    """The QĐ 766 ratio; None when there was no dossier at all."""
    value = report.get("satisfaction_766") or {}
    if not value.get("total_dossiers") or value.get("percent") is None:
        return None
    return float(value["percent"])
