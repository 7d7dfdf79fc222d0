"""Vietnamese labels and number formatting shared by the pages, charts and exports (pure)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sipas.clock import date_short
from sipas.format_vi import decimal_vi, number_vi  # noqa: F401  (the pages, charts and exports import it from here)
from sipas.models import ResponseChannel
from sipas.parsing import CHANNEL_LABELS_VI

#: The console's names of the rating channels (one list: the cases page, the dossier page and the import
#: template use it too), in the report's order.
CHANNEL_LABELS: dict[ResponseChannel, str] = {channel: CHANNEL_LABELS_VI[channel] for channel in (
    ResponseChannel.KIOSK, ResponseChannel.SMS, ResponseChannel.QR, ResponseChannel.ZALO, ResponseChannel.PAPER,
    ResponseChannel.API)}

TIMELINESS_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def channel_label(code: str) -> str:
    try:
        return CHANNEL_LABELS[ResponseChannel(code)]
    except ValueError:
        return code


def percent_vi(value: float | Decimal | None) -> str:
    """51.19 → "51,19%"."""
    return "–" if value is None else decimal_vi(value) + "%"


def date_vi(value: date | datetime | str | None) -> str:
    """A date (or an ISO text, ``2026-03-06`` or ``2026-03-06T09:00``) the official way: ``06/3/2026``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return date_short(value)
