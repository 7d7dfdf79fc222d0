"""Rounding as Vietnamese documents do it: half up, on the exact value (never the float's binary neighbour)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def mean_half_up(total: int, count: int, places: int = 2) -> float | None:
    """``total / count`` rounded half up to ``places``: 33 / 8 = 4,125 → 4,13 (Python's ``round`` gave 4,12, rounding
    half to even); None without a count."""
    if not count:
        return None
    return float((Decimal(total) / Decimal(count)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
