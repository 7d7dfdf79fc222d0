"""Numbers written the Vietnamese way (comma for decimals, dot for thousands), for every message and page."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


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
