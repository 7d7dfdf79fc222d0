"""The arithmetic of the quarterly figures: pure functions on counts, no database, no Flask.

Rules (domain notes §2.4, §3):

- Percentages of a criterion's answers have two decimals and sum to exactly 100.00 by the largest
  remainder method: every share is first truncated to hundredths, then the missing hundredths go one
  each to the shares with the largest remainders (ties: the earlier option). Each result is within
  0.01 of the exact value. A criterion without answers (n = 0) gives 0.00 everywhere.
- Rates (response rate, on-time rate, QĐ 766 ratio) are percentages rounded half-up to two decimals;
  a rate whose denominator is 0 is 0.00 (the report says the denominator alongside).
- TT 01/2018 index score = points ÷ number of scored items, rounded half-up to one decimal; an index
  without data is left out (never 0). The total is the sum of the rounded index scores; the class
  comes from ``Scoring.classify`` whose lower bounds are inclusive (exactly 15.0 is "xuất sắc").
- Index 9 (online services) for a unit: 2 when ≥ 30 % of the dossiers received were online and no
  online dossier was late; 1 when 15 % to < 30 % and none late; 0 below 15 % or with a late online
  dossier (even when none was received). No dossier received and none late: no data.
- Uncertainty (issue 11 §4): a share x of n answers carries its 95 % Wilson score interval
  (z = 1.96), in percent rounded half-up to two decimals; n = 0 has none. A criterion (or the overall
  rate) with fewer than ``SMALL_N`` = 30 answers is *ít phiếu*: shown with its n and flagged, never as
  a bare two-decimal figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from sipas.catalogue import Scoring

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
Z95 = 1.96
SMALL_N = 30


def largest_remainder(counts: Sequence[int], places: int = 2) -> list[Decimal]:
    """Shares of ``counts`` in percent with ``places`` decimals, summing to exactly 100 (or all 0)."""
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    total = sum(counts)
    quantum = Decimal(1).scaleb(-places)
    if total == 0:
        return [Decimal(0).quantize(quantum) for _ in counts]
    exact = [Decimal(c) * HUNDRED / Decimal(total) for c in counts]
    floors = [e.quantize(quantum, rounding=ROUND_DOWN) for e in exact]
    missing = int(((HUNDRED - sum(floors, Decimal(0))) / quantum).to_integral_value())
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += quantum
    return floors


def percent(numerator: int, denominator: int) -> Decimal:
    """``numerator ÷ denominator`` in percent, two decimals half-up; 0.00 when the denominator is 0."""
    if denominator <= 0:
        return Decimal("0.00")
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def mean_one_decimal(points: int, count: int) -> Decimal | None:
    """Mean points rounded half-up to one decimal; None without data."""
    if count <= 0:
        return None
    return (Decimal(points) / Decimal(count)).quantize(TENTH, rounding=ROUND_HALF_UP)


def on_time_rate(early: int, on_time: int, resolved: int) -> Decimal:
    """(early + on time) ÷ resolved, in percent; 0.00 when nothing was resolved."""
    return percent(early + on_time, resolved)


def timeliness_points(early: int, on_time: int, late: int) -> tuple[int, int]:
    """Points and count for indices 1-2 from resolved dossiers: early 2, on time 1, late 0."""
    return 2 * early + on_time, early + on_time + late


def online_index_points(received: int, online: int, online_late: int) -> int | None:
    """Index 9 points for a unit (see the module docstring); None when no dossier was received and no online
    dossier was late (a late one makes it 0 whatever the share)."""
    if online_late > 0:
        return 0
    if received <= 0:
        return None
    share = Decimal(online) * HUNDRED / Decimal(received)
    if share >= 30:
        return 2
    if share >= 15:
        return 1
    return 0


@dataclass(frozen=True)
class Scores:
    indices: dict[int, Decimal]
    total: Decimal | None
    class_code: str | None
    class_label: str | None


def tt01_scores(index_points: Mapping[int, tuple[int, int]], scoring: Scoring) -> Scores:
    """Index means from (points, count) per index, their total and class. No data at all: no total."""
    indices: dict[int, Decimal] = {}
    for index in sorted(index_points):
        points, count = index_points[index]
        mean = mean_one_decimal(points, count)
        if mean is not None:
            indices[index] = mean
    if not indices:
        return Scores(indices, None, None, None)
    total = sum(indices.values(), Decimal(0))
    score_class = scoring.classify(float(total))
    return Scores(indices, total, score_class.code, score_class.label)


def satisfaction_766(total: int, unsatisfied_or_late: int) -> Decimal:
    """QĐ 766: (all dossiers − dissatisfied, complained about or overdue) ÷ all dossiers, in percent."""
    return percent(max(total - unsatisfied_or_late, 0), total)


def average(values: Sequence[Decimal]) -> Decimal | None:
    """Mean of totals rounded half-up to one decimal (district ranking); None for no values."""
    if not values:
        return None
    return (sum(values, Decimal(0)) / Decimal(len(values))).quantize(TENTH, rounding=ROUND_HALF_UP)


def as_number(value: Decimal | None) -> float | None:
    """A Decimal as a plain JSON number (51.19), keeping None."""
    return None if value is None else float(value)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[Decimal, Decimal] | None:
    """95 % Wilson score interval of ``successes`` ÷ ``n`` in percent (two decimals half-up); None for n = 0.

    Chosen over the normal ("Wald") interval because it stays inside 0–100 % and is honest for the small
    counts of a ward's quarter (0 of 5 gives 0–43.45 %, not 0–0 %).
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    low, high = max(centre - half, 0.0), min(centre + half, 1.0)
    return _percent_of_fraction(low), _percent_of_fraction(high)


def _percent_of_fraction(value: float) -> Decimal:
    return (Decimal(repr(value)) * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def ci95(successes: int, n: int) -> list[float] | None:
    """The Wilson interval as a JSON pair ``[low, high]`` in percent; None without answers."""
    interval = wilson_interval(successes, n)
    return None if interval is None else [float(interval[0]), float(interval[1])]


def is_small_n(n: int) -> bool:
    """Fewer than ``SMALL_N`` answers: flagged "ít phiếu" wherever the share is shown."""
    return n < SMALL_N
