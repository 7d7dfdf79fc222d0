"""Vietnamese labels and number formatting shared by the pages, charts and exports (pure)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sipas.models import ResponseChannel

CHANNEL_LABELS: dict[ResponseChannel, str] = {
    ResponseChannel.KIOSK: "Thiết bị đánh giá tại quầy",
    ResponseChannel.SMS: "Tin nhắn SMS",
    ResponseChannel.QR: "Mã QR / trực tuyến",
    ResponseChannel.PAPER: "Phiếu giấy",
    ResponseChannel.API: "Hệ thống khác (API)",
}

TIMELINESS_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def channel_label(code: str) -> str:
    try:
        return CHANNEL_LABELS[ResponseChannel(code)]
    except ValueError:
        return code


def number_vi(value: int | float | None) -> str:
    """1348 → "1.348"; None → "–"."""
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def decimal_vi(value: float | Decimal | None, places: int = 2) -> str:
    """51.19 → "51,19" (half-up, thousands dot); None → "–"."""
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent_vi(value: float | Decimal | None) -> str:
    """51.19 → "51,19%"."""
    return "–" if value is None else decimal_vi(value) + "%"
