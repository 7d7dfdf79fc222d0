"""Vietnamese number, percent and date formatting for documents (Babel vi_VN, rounding done here).

Babel rounds half-even (51,185 → 51,18); documents round half-up, so every value is quantized
with ``ROUND_HALF_UP`` first and only then handed to Babel for the separators.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


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


def day_month(day: date) -> tuple[str, str]:
    """Official style: the day always two digits, the month two digits only for January and February."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{day.day:02d}", month


def date_words(day: date) -> str:
    """``ngày 06 tháng 3 năm 2023``; ``ngày 05 tháng 02 năm 2023``."""
    d, m = day_month(day)
    return f"ngày {d} tháng {m} năm {day.year}"


def date_short(day: date) -> str:
    """``06/3/2023``; ``05/02/2023`` (same padding rule as the date line)."""
    d, m = day_month(day)
    return f"{d}/{m}/{day.year}"


def period_words(start: date, end: date) -> str:
    """``quý I năm 2023``, ``tháng 3 năm 2023``, ``năm 2023`` or ``từ ngày 15/12/2022 đến ngày 06/3/2023``."""
    from sipas.clock import Period

    period = Period(start, end)
    if start.year == end.year:
        if period == Period.year(start.year):
            return f"năm {start.year}"
        quarter = (start.month - 1) // 3 + 1
        if period == Period.quarter(start.year, quarter):
            return f"quý {ROMAN_QUARTERS[quarter]} năm {start.year}"
        if period == Period.month(start.year, start.month):
            return f"tháng {start.month} năm {start.year}"
    return period_dates(start, end)


def period_dates(start: date, end: date) -> str:
    return f"từ ngày {date_short(start)} đến ngày {date_short(end)}"
