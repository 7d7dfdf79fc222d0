"""Issue 11 §4: the satisfaction trend over the last quarters, with its 95 % interval as a band."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from sqlalchemy.orm import Session

from aggregator.report import build_report
from aggregator.trend import quarters_back, satisfaction_trend, trend_point
from aggregator.trend_chart import trend_chart
from sipas.catalogue import Catalogue
from sipas.clock import Period
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, create_unit

SVG = "{http://www.w3.org/2000/svg}"


def test_the_last_four_quarters_end_with_the_one_holding_the_last_day() -> None:
    quarters = quarters_back(Period(date(2025, 12, 15), date(2026, 3, 6)))
    assert [(q.start, q.end) for q in quarters] == [
        (date(2025, 4, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31))]
    assert len(quarters_back(Period.year(2026), 6)) == 6 and quarters_back(Period.year(2026))[-1].start.month == 10


def test_a_point_keeps_its_n_its_interval_and_no_rate_without_answers() -> None:
    q = Period.quarter(2026, 1)
    # 12 of 12: centre (1 + 0.16007)/1.32013 = 0.8787, half 1.96·0.08167/1.32013 = 0.1213 → 75.75–100
    assert trend_point("Quý I/2026", q, 12, 12) == {
        "label": "Quý I/2026", "from": "2026-01-01", "to": "2026-03-31", "answers": 12, "satisfied": 12,
        "percent": 100.0, "ci95": [75.75, 100.0], "small_n": True}
    empty = trend_point("Quý I/2026", q, 0, 0)
    assert (empty["percent"], empty["ci95"], empty["small_n"]) == (None, None, False)
    assert trend_point("x", q, 30, 15)["small_n"] is False


def test_trend_points_equal_the_reports_of_their_quarters(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    points = satisfaction_trend(session, catalogue, [unit], Period.quarter(2026, 1), tz=TZ, now=NOW)
    assert [p["label"] for p in points] == ["Quý II/2025", "Quý III/2025", "Quý IV/2025", "Quý I/2026"]
    assert [(p["answers"], p["satisfied"]) for p in points] == [(0, 0), (0, 0), (12, 12), (25, 24)]
    q1 = build_report(session, catalogue, [unit], Period.quarter(2026, 1), tz=TZ, now=NOW, unit_label="x")["overall"]
    assert (points[-1]["percent"], points[-1]["ci95"]) == (q1["percent"], q1["ci95"]) == (96.0, [80.46, 99.29])
    assert points[2]["ci95"] == [75.75, 100.0]


def test_trend_chart_draws_the_band_the_line_and_the_gaps() -> None:
    q = Period.quarter(2026, 1)
    points = [trend_point("Quý II/2025", q, 0, 0), trend_point("Quý III/2025", q, 40, 30),
              trend_point("Quý IV/2025", q, 12, 12), trend_point("Quý I/2026", q, 25, 24)]
    root = ET.fromstring(trend_chart(points))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "chưa có phiếu" in texts and "75,00% (n = 40)" in texts and texts.count("ít phiếu") == 2
    [band] = list(root.iter(f"{SVG}polygon"))  # one band over the three consecutive quarters with answers
    assert len(band.get("points").split()) == 6
    [line] = list(root.iter(f"{SVG}polyline"))
    assert len(line.get("points").split()) == 3
    assert len(list(root.iter(f"{SVG}circle"))) == 3
