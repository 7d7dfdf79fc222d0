"""Issue 11 §4: every share keeps its n, its 95 % Wilson interval and an "ít phiếu" flag.

The expected intervals are worked out by hand with z = 1.96:
centre = (p + z²/2n) / (1 + z²/n), half width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from aggregator import stats
from aggregator.report import build_report
from sipas.catalogue import Catalogue
from sipas.clock import Period
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, create_unit

D = Decimal


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (5, 10, "23.66", "76.34"),    # p = 0.5: centre 0.5, half 0.3646/1.38416 = 0.2634
    (0, 10, "0.00", "27.75"),     # centre = half = 0.19208/1.38416 = 0.1388
    (10, 10, "72.25", "100.00"),  # mirror of 0 of 10
    (0, 5, "0.00", "43.45"),      # a bare "0.00 %" of five answers is really anything up to 43 %
    (1, 3, "6.15", "79.23"),      # centre 0.9736/2.28053 = 0.4269, half 0.8334/2.28053 = 0.3654
    (81, 100, "72.22", "87.49"),  # centre 0.829208/1.038416 = 0.7985, half 0.079254/1.038416 = 0.0763
    (15, 30, "33.15", "66.85"),
])
def test_wilson_interval_at_known_values(successes: int, n: int, low: str, high: str) -> None:
    assert stats.wilson_interval(successes, n) == (D(low), D(high))
    assert stats.ci95(successes, n) == [float(low), float(high)]


def test_no_answers_no_interval_and_bad_counts_refused() -> None:
    assert stats.wilson_interval(0, 0) is None and stats.ci95(0, 0) is None
    with pytest.raises(ValueError):
        stats.wilson_interval(4, 3)


def test_wilson_interval_is_symmetric_and_contains_the_share() -> None:
    for n in (1, 2, 7, 29, 30, 31, 250):
        for x in range(n + 1):
            low, high = stats.wilson_interval(x, n)  # type: ignore[misc]
            mirror_low, mirror_high = stats.wilson_interval(n - x, n)  # type: ignore[misc]
            assert low + mirror_high == D(100) == high + mirror_low
            assert low <= D(x) * 100 / n <= high


def test_small_n_threshold_is_thirty_answers() -> None:
    assert stats.is_small_n(0) and stats.is_small_n(29)
    assert not stats.is_small_n(30) and not stats.is_small_n(31)


def test_report_json_carries_ci95_per_option_and_small_n_per_criterion(session: Session,
                                                                       catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = build_report(session, catalogue, [unit], Period.quarter(2026, 1), tz=TZ, now=NOW, unit_label=unit.name)
    hue12 = next(i for i in report["instruments"] if i["code"] == "hue12")
    tc01 = next(c for c in hue12["criteria"] if c["code"] == "tc01")
    assert tc01["n"] == 2 and tc01["small_n"] is True
    # 1 of 2: centre 0.5, half 1.96·√(0.125 + 0.2401)/2.9208 = 0.4055; 0 of 2: centre = half = 0.9604/2.9208
    assert [(o["count"], o["percent"], o["ci95"]) for o in tc01["options"]] == [
        (1, 50.0, [9.45, 90.55]), (1, 50.0, [9.45, 90.55]), (0, 0.0, [0.0, 65.76])]
    empty = next(i for i in report["instruments"] if i["code"] == "tt01_2018")["criteria"]
    assert all(isinstance(c["small_n"], bool) for c in empty)
    overall = report["overall"]
    # 24 of 25 satisfaction answers: centre 1.036832/1.153664 = 0.8987, half 0.108645/1.153664 = 0.0942
    assert (overall["answers"], overall["satisfied"]) == (25, 24)
    assert overall["ci95"] == [80.46, 99.29] and overall["small_n"] is True
