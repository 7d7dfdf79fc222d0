"""What a citizen at the kiosk stumbled on (issue 13): the device name after a reload, the polite
"already rated", and a favicon instead of a 404 on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sipas.dossiers import find_dossier
from sipas.storage import get_database
from sipas.units import get_unit
from tests.factories import create_response
from tests.kiosk.browser import open_kiosk
from tests.kiosk.helpers import seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]

RGB = "(e) => getComputedStyle(e).color.match(/\\d+/g).slice(0, 3).map(Number)"


def test_the_device_name_stays_in_the_top_bar_after_a_reload(live_server, page: Page):
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.locator("#device-name")).to_have_text("Quầy 1")  # from the heartbeat: the token was set directly
    page.reload()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.locator("#device-name")).to_have_text("Quầy 1")
    page.route("**/api/heartbeat", lambda route: route.abort())  # the server cannot be reached for a moment
    page.reload()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.locator("#device-name")).to_have_text("Quầy 1")


def test_an_already_rated_dossier_is_thanked_politely_not_shown_as_an_error(live_server, page: Page, catalogue):
    setup = seed(live_server.app, dossiers=2)
    with get_database(live_server.app).session() as session:
        unit = get_unit(session, setup.unit_code)
        create_response(session, catalogue, unit, dossier=find_dossier(session, unit, setup.dossiers[0]))
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.type("nope-000")
    page.keyboard.press("Enter")
    message = page.get_by_test_id("start-message")
    expect(message).to_have_text("Không tìm thấy hồ sơ với mã này.")
    red, green, blue = message.evaluate(RGB)
    assert red > green + blue  # a real refusal stays in the error colour
    page.locator("#key-clear").tap()
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    expect(message).to_contain_text("Hồ sơ này đã được đánh giá. Xin cảm ơn ông/bà.")
    red, green, blue = message.evaluate(RGB)
    assert red < max(green, blue), (red, green, blue)  # thanks, not the error red


def test_no_page_a_citizen_or_clerk_opens_asks_for_a_missing_favicon(live_server, page: Page):
    setup = seed(live_server.app)
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.goto(f"{live_server.url}/console/login")
    expect(page.locator('input[name="username"]')).to_be_visible()
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
    page.wait_for_load_state("networkidle")
    assert missing == []
