"""A clerk in Chromium: the dashboard of a quarter, a drill-down by field, the XLSX download."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from sipas.catalogue import load_catalogue
from sipas.levels import LEVELS, TONES
from sipas.settings import DEFAULT_CONFIG_DIR
from sipas.storage import get_database
from tests.aggregator.fixtures import build_quarter
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_unit


@pytest.mark.browser
def test_clerk_reads_the_quarter_drills_down_and_downloads(live_server, page) -> None:  # type: ignore[no-untyped-def]
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Thử Trình Duyệt")
        build_quarter(session, load_catalogue(DEFAULT_CONFIG_DIR), unit)
        username = create_clerk(session, unit).username
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/bao-cao/?kind=quarter&quarter=2026Q1")
    assert page.locator("h1").inner_text() == "Báo cáo kết quả đánh giá: Phường Thử Trình Duyệt"
    charts = page.locator(".chart svg")
    assert charts.count() == 5  # hue12, quay4, tt01_2018, the satisfaction trend and the timeliness bar
    trend = page.locator(".chart svg[aria-label^='Tỷ lệ hài lòng chung theo quý']").bounding_box()
    assert trend is not None and trend["width"] > 300  # the trend with its band is drawn, not clipped away
    # every label of the trend inside the chart, as Chromium lays it out (the last quarter's ran past the edge)
    outside = page.locator(".chart svg[aria-label^='Tỷ lệ hài lòng chung theo quý']").evaluate(
        """(svg) => [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()])
               .filter(([, b]) => b.x < 0 || b.x + b.width > svg.viewBox.baseVal.width)
               .map(([text, b]) => `${text}: ${Math.round(b.x)}–${Math.round(b.x + b.width)}`)""")
    assert outside == []
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 300
    fills = set(charts.first.evaluate("(svg) => [...svg.querySelectorAll('rect')].map(r => r.getAttribute('fill'))"))
    assert {TONES[level].fill for level in LEVELS} <= fills  # the kiosk's level colours, by points
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=screenshot_path("report-dashboard.png"), full_page=True)
    assert page.get_by_text("Phải chờ lâu").is_visible()
    page.get_by_role("link", name="Chứng thực").click()
    assert "field=" in page.url
    assert page.get_by_text("Lĩnh vực: Chứng thực").is_visible()
    rows = page.locator("table.grid tr.total td")
    assert rows.nth(5).inner_text() == "1"  # resolved in Chứng thực: D only
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải bảng tính (XLSX)").click()
    data = download_info.value.path().read_bytes()
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tiêu chí", "Lĩnh vực"]
    assert book["Lĩnh vực"]["A5"].value == "Chứng thực"
