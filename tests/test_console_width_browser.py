"""The console on a clerk's screens (issue 13): a 1440-px screen's width is used, status words stay on one
line, and on a laptop a wide table scrolls inside its card rather than the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sipas.storage import get_database
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_dossier, create_unit

BADGES_ON_ONE_LINE = """() => [...document.querySelectorAll('.badge')].filter(b => b.getClientRects().length > 1
  || b.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(b).fontSize)).map(b => b.textContent)"""


@pytest.mark.browser
def test_the_dossier_list_uses_a_large_screen_and_stays_readable_on_a_laptop(live_server, page):
    now = datetime.now(UTC)
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        procedure = "Cấp bản sao trích lục hộ tịch, bản sao giấy khai sinh có chứng thực"
        for number in range(6):
            create_dossier(session, unit, procedure=procedure,
                           received_at=now - timedelta(days=10 + number), returned=number % 2 == 0, now=now)
        username = create_clerk(session, unit).username
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/dossiers")
    table = page.locator("table.dossiers")
    table.wait_for()
    assert page.locator(".page").bounding_box()["width"] >= 1400  # not capped near 1,120 px
    assert page.evaluate(BADGES_ON_ONE_LINE) == []  # "Đã trả kết quả" never over three lines
    page.screenshot(path=screenshot_path("console-dossiers-1440.png"))
    page.set_viewport_size({"width": 1024, "height": 768})
    assert page.evaluate(BADGES_ON_ONE_LINE) == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1024  # the page itself never scrolls sideways
