"""Vietnamese number, percent and date formatting for documents (Babel vi_VN, rounding done here).

Babel rounds half-even (51,185 → 51,18); documents round half-up, so every value is quantized
with ``ROUND_HALF_UP`` first and only then handed to Babel for the separators.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

from sipas.clock import ROMAN_QUARTERS, date_short, date_words, day_month, period_dates, period_words

# The date and period wording lives in sipas.clock (the report labels use it too); re-exported here
# so the notice code has one formatting module.
__all__ = ["ROMAN_QUARTERS", "date_short", "date_words", "day_month", "decimal", "half_up", "number", "percent",
           "period_dates", "period_words", "ratio_percent"]


def half_up(value: float | int | Decimal, places: int) -> Decimal:
    """Round half-up through the decimal text of ``value`` (0.125 → 0.13, not 0.12)."""
    exponent = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def number(value: int | float | None) -> str:
    """``1348`` → ``1.348``; ``None`` → an en dash (no data)."""
    if value is None:
        return "–"
    return format_decimal(int(value), "#,##0", locale="vi_VN")


def decimal(value: float | int | None, places: int = 1) -> str:
    """``16.45`` → ``16,5`` with one place (half-up)."""
    if value is None:
        return "–"
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(half_up(value, places), pattern, locale="vi_VN")


def percent(value: float | int | None, places: int = 2) -> str:
    """A percentage already scaled to 0–100: ``51.19`` → ``51,19%``."""
    if value is None:
        return "–"
    return decimal(value, places) + "%"


def ratio_percent(numerator: int, denominator: int, places: int = 2) -> str:
    """``numerator / denominator`` as a percentage, or an en dash when the denominator is 0."""
    if not denominator:
        return "–"
    return percent(Decimal(numerator) * 100 / Decimal(denominator), places)
