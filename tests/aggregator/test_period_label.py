"""The period label of reports, the CLI, the dashboard and the XLSX follows domain notes §3."""

from __future__ import annotations

from datetime import date

import pytest

from sipas.clock import Period, date_short, date_words, period_words


@pytest.mark.parametrize(("period", "label"), [
    (Period.quarter(2026, 3), "quý III năm 2026 (01/7/2026 – 30/9/2026)"),
    (Period.quarter(2026, 1), "quý I năm 2026 (01/01/2026 – 31/3/2026)"),
    (Period.month(2026, 2), "tháng 2 năm 2026 (01/02/2026 – 28/02/2026)"),
    (Period.year(2025), "năm 2025 (01/01/2025 – 31/12/2025)"),
    (Period(date(2025, 12, 15), date(2026, 3, 6)), "từ ngày 15/12/2025 đến ngày 06/3/2026"),
    (Period(date(2026, 7, 1), date(2026, 8, 31)), "từ ngày 01/7/2026 đến ngày 31/8/2026"),
])
def test_a_calendar_period_is_named_any_other_range_is_dated(period: Period, label: str) -> None:
    assert period.label_vi() == label


def test_dates_pad_the_day_and_only_months_one_and_two() -> None:
    assert [date_short(date(2026, m, 5)) for m in (1, 2, 3, 10)] == ["05/01/2026", "05/02/2026", "05/3/2026",
                                                                     "05/10/2026"]
    assert date_words(date(2026, 9, 30)) == "ngày 30 tháng 9 năm 2026"
    assert period_words(date(2026, 4, 1), date(2026, 6, 30)) == "quý II năm 2026"


def test_the_notice_formatting_is_the_same_helper() -> None:
    from aggregator.notices import vnformat

    assert vnformat.period_words is period_words and vnformat.date_short is date_short
