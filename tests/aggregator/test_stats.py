"""Pure arithmetic of the report, with hand-computed expectations (no database)."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator import stats
from sipas.catalogue import load_catalogue
from sipas.settings import DEFAULT_CONFIG_DIR

D = Decimal


@pytest.fixture(scope="module")
def scoring():  # type: ignore[no-untyped-def]
    return load_catalogue(DEFAULT_CONFIG_DIR).scoring


def test_empty_criterion_gives_zeros_without_dividing_by_zero() -> None:
    assert stats.largest_remainder([0, 0, 0]) == [D("0.00")] * 3
    assert stats.percent(5, 0) == D("0.00")
    assert stats.on_time_rate(0, 0, 0) == D("0.00")
    assert stats.mean_one_decimal(0, 0) is None


def test_one_answer_is_one_hundred_percent() -> None:
    assert stats.largest_remainder([0, 1, 0]) == [D("0.00"), D("100.00"), D("0.00")]


def test_thirds_tie_goes_to_the_first_option_deterministically() -> None:
    assert stats.largest_remainder([1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]
    assert stats.largest_remainder([2, 2, 2]) == [D("33.34"), D("33.33"), D("33.33")]


def test_largest_remainder_hand_computed() -> None:
    # 43/84 = 51.190476…, 31/84 = 36.904761…, 10/84 = 11.904761…: floors 51.19 + 36.90 + 11.90 = 99.99;
    # the largest remainders are those of 36.904761 and 11.904761 (0.0047…) → the first of them gets 0.01.
    assert stats.largest_remainder([43, 31, 10]) == [D("51.19"), D("36.91"), D("11.90")]
    # 1/6 = 16.666…, 5/6 = 83.333…: floors 16.66 + 83.33 = 99.99, 16.666 has the larger remainder.
    assert stats.largest_remainder([1, 5]) == [D("16.67"), D("83.33")]


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_largest_remainder_sums_to_100_and_stays_within_a_hundredth(counts: list[int]) -> None:
    shares = stats.largest_remainder(counts)
    total = sum(counts)
    if total == 0:
        assert all(s == 0 for s in shares)
        return
    assert sum(shares) == D("100.00")
    for count, share in zip(counts, shares, strict=True):
        assert abs(share - D(count) * 100 / D(total)) < D("0.01")
        assert share == share.quantize(D("0.01"))


def test_rates_round_half_up() -> None:
    assert stats.percent(1, 8) == D("12.50")
    assert stats.percent(1, 3) == D("33.33")
    assert stats.percent(2, 3) == D("66.67")
    assert stats.percent(1, 16) == D("6.25")
    assert stats.percent(1, 32) == D("3.13")  # 3.125 → 3.13 (half-up, Babel would give 3.12)


def test_index_means_one_decimal_half_up() -> None:
    assert stats.mean_one_decimal(5, 4) == D("1.3")  # 1.25 → 1.3
    assert stats.mean_one_decimal(3, 2) == D("1.5")
    assert stats.mean_one_decimal(1, 3) == D("0.3")


@pytest.mark.parametrize(("total", "label"), [
    (D("18"), "xuất sắc"), (D("15.0"), "xuất sắc"), (D("14.9"), "tốt"), (D("12.0"), "tốt"), (D("11.9"), "khá"),
    (D("9.0"), "khá"), (D("8.9"), "trung bình"), (D("6.0"), "trung bình"), (D("5.9"), "yếu"), (D("0"), "yếu"),
])
def test_class_boundaries_are_inclusive_at_the_lower_end(scoring, total: Decimal, label: str) -> None:  # type: ignore[no-untyped-def]
    # Nine indices each scored so that they add up to exactly ``total`` (points, count) = (10 * share, 10).
    per_index = total / 9
    points = {i: (int(per_index * 10), 10) for i in range(1, 10)}
    # adjust the last index so the rounded means add up to the exact total
    rounded = sum(stats.mean_one_decimal(p, c) for p, c in list(points.values())[:-1])
    points[9] = (int((total - rounded) * 10), 10)
    result = stats.tt01_scores(points, scoring)
    assert result.total == total
    assert result.class_label == label


def test_scores_leave_indices_without_data_out(scoring) -> None:  # type: ignore[no-untyped-def]
    result = stats.tt01_scores({1: (7, 4), 3: (0, 0), 7: (2, 1)}, scoring)
    assert result.indices == {1: D("1.8"), 7: D("2.0")}
    assert result.total == D("3.8")
    assert result.class_label == "yếu"
    assert stats.tt01_scores({}, scoring).total is None


def test_exactly_fifteen_from_rounded_indices_is_excellent(scoring) -> None:  # type: ignore[no-untyped-def]
    # 7 indices at 2.0 + index 8 at 1.0 = 15.0 exactly
    points = {i: (2, 1) for i in (1, 2, 3, 4, 5, 6, 7)} | {8: (1, 1)}
    result = stats.tt01_scores(points, scoring)
    assert (result.total, result.class_code) == (D("15.0"), "xuat_sac")


def test_online_index() -> None:
    assert stats.online_index_points(0, 0, 0) is None
    assert stats.online_index_points(10, 3, 0) == 2  # exactly 30 %
    assert stats.online_index_points(100, 29, 0) == 1
    assert stats.online_index_points(20, 3, 0) == 1  # exactly 15 %
    assert stats.online_index_points(100, 14, 0) == 0
    assert stats.online_index_points(10, 9, 1) == 0  # an online dossier late
    assert stats.online_index_points(0, 0, 1) == 0  # nothing received, but a carried-over online dossier late


def test_satisfaction_766_and_timeliness_points() -> None:
    assert stats.satisfaction_766(40, 3) == D("92.50")
    assert stats.satisfaction_766(0, 0) == D("0.00")
    assert stats.timeliness_points(early=3, on_time=2, late=1) == (8, 6)
    assert stats.average([D("15.0"), D("12.5"), D("9.0")]) == D("12.2")
    assert stats.average([]) is None


def test_stats_imports_only_the_standard_library_and_the_catalogue() -> None:
    source = Path(stats.__file__).read_text(encoding="utf-8")
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module if node.module.startswith("sipas") else node.module.split(".")[0])
    assert modules <= {"__future__", "collections", "dataclasses", "decimal", "math", "sipas.catalogue"}
