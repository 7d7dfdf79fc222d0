"""The report's SVG charts as Chromium lays them out: every label inside its chart, with the figures of a
province (answers in the millions) in both the screen font and the notice's."""

from __future__ import annotations

import pytest

from aggregator import charts
from aggregator.trend_chart import trend_chart

BIG = 4_321_987  # a province's year: more than a million answers to one criterion


def _instrument() -> dict:
    options = [{"label": "Rất hài lòng", "points": 2, "count": BIG - 20_000},
               {"label": "Hài lòng", "points": 1, "count": 15_000},
               {"label": "Không hài lòng", "points": 0, "count": 5_000}]
    return {"label": "Bộ", "criteria": [
        {"label": "Đánh giá tổng thể dịch vụ", "short_label": "Đánh giá tổng thể dịch vụ", "n": BIG,
         "options": options}]}


def _trend() -> list[dict]:
    point = {"percent": 99.54, "ci95": (99.5, 99.6), "answers": BIG, "small_n": False}
    return [{**point, "label": label} for label in ("Quý I/2026", "Quý II/2026", "Quý III/2026", "Quý IV/2026")]


CHARTS = {
    "criteria, screen": lambda: charts.criteria_chart(_instrument()),
    "criteria, notice": lambda: charts.criteria_chart(_instrument(), charts.DOCUMENT_FONT),
    "timeliness": lambda: charts.timeliness_chart({"early": BIG, "on_time": 20_000, "late": 3,
                                                   "resolved": BIG + 20_003}),
    "trend": lambda: trend_chart(_trend()),
}

OUTSIDE = """(svg) => [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()])
    .filter(([, b]) => b.x < 0 || b.x + b.width > svg.viewBox.baseVal.width)
    .map(([text, b]) => `${text}: ${Math.round(b.x)}–${Math.round(b.x + b.width)} of ${svg.viewBox.baseVal.width}`)"""


@pytest.mark.browser
@pytest.mark.parametrize("name", list(CHARTS))
def test_every_label_lies_inside_its_chart(page, name) -> None:  # type: ignore[no-untyped-def]
    page.set_content(f"<!doctype html><meta charset=utf-8><body>{CHARTS[name]()}</body>")
    assert page.locator("svg").first.evaluate(OUTSIDE) == []
