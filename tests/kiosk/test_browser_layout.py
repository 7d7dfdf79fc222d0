"""Every kiosk screen fits the screen without scrolling, in normal and large text, landscape and portrait.

Each screen is measured at 1280×800, 1920×1080 and 800×1280, with and without *A+ Chữ to*: every
visible button lies inside the viewport and inside any clipping box, nothing needs scrolling, targets
are at least 56 px, text at least 24 px and every visible text meets WCAG AA contrast.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sipas.storage import get_database
from tests.factories import create_dossier
from tests.kiosk.browser import VIEWPORTS, assert_accessible, open_kiosk, out_of_view
from tests.kiosk.helpers import seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]
LONG_PROCEDURE = ("Cấp bản sao trích lục hộ tịch, xác nhận thông tin hộ tịch và đăng ký lại khai sinh "
                  "có yếu tố nước ngoài")


class Layout:
    """Measures the current screen in every viewport and text size, collecting what does not fit."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.screens: list[str] = []
        self.text_px: dict[tuple[str, bool], float] = {}

    def check(self, name: str, scope: str = "body") -> None:
        page = self.page
        expect(page.locator(".rf-guard")).to_have_count(0)  # the double-tap guard has let go
        self.screens.append(name)
        for label, (width, height) in VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            for large in (False, True):
                page.evaluate("large => document.documentElement.classList.toggle('rf-large', large)", large)
                where = f"{name} at {label}{' large' if large else ''}"
                outside = out_of_view(page, scope)
                if outside:
                    self.problems.append(f"{where}: {outside}")
                try:
                    assert_accessible(page)
                except AssertionError as error:
                    self.problems.append(f"{where}: {str(error).splitlines()[0]}")
                if name == "question 1":
                    self.text_px[(label, large)] = float(page.locator(".rf-question").evaluate(
                        "e => parseFloat(getComputedStyle(e).fontSize)"))
        page.set_viewport_size({"width": 1280, "height": 800})
        page.evaluate("document.documentElement.classList.remove('rf-large')")


@pytest.mark.parametrize("instrument", ["hue12", "quay4", "tt01_2018"])
def test_every_screen_fits_in_both_text_sizes_at_three_screen_sizes(live_server, page: Page, instrument: str):
    setup = seed(live_server.app, instrument=instrument, anonymous=True)
    with get_database(live_server.app).session() as session:
        from sipas.units import get_unit

        code = create_dossier(session, get_unit(session, setup.unit_code), procedure=LONG_PROCEDURE).code
    layout = Layout(page)
    page.clock.install()
    if instrument == "hue12":
        page.goto(f"{live_server.url}/kiosk/{setup.unit_code}?thanks=600")  # no token yet: the pairing screen
        expect(page.get_by_test_id("pair-code")).to_be_visible()
        layout.check("pairing")
    open_kiosk(page, live_server, setup, "?thanks=600")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    layout.check("start")
    page.locator("#key-letters").tap()
    layout.check("start, letters")
    page.locator('#keypad [data-key="K"]').tap()
    page.get_by_test_id("code-next").tap()
    expect(page.get_by_test_id("start-message")).to_have_text("Không tìm thấy hồ sơ với mã này.")
    layout.check("start, error message")
    page.locator("#key-clear").tap()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text(LONG_PROCEDURE)
    total = int(page.get_by_test_id("progress").inner_text().split("/")[1])
    for number in range(1, total + 1):
        expect(page.get_by_test_id("progress")).to_have_text(f"{number}/{total}")
        layout.check(f"question {number}")
        page.locator(".rf-option--na" if page.locator(".rf-option--na").count() else ".rf-option--mid").tap()
    expect(page.locator('[data-screen="comment"]')).to_be_visible()
    layout.check("comment")
    for key in ["t", "o", "t"]:
        page.get_by_test_id("vi-keyboard").get_by_role("button", name=key, exact=True).tap()
    page.locator(".rf-next").tap()
    expect(page.locator(".rf-summary-item")).to_have_count(total)
    layout.check("summary")
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    layout.check("thanks")
    page.clock.run_for(600_000)
    page.get_by_test_id("anonymous").tap()
    expect(page.get_by_test_id("progress")).to_have_text(f"1/{total}")
    page.clock.run_for(46_000)
    expect(page.get_by_test_id("countdown")).to_be_visible()
    layout.check("countdown", ".rf-countdown")
    assert layout.problems == [], "\n".join(layout.problems)
    for label in VIEWPORTS:  # large text is larger, and never below 24 px
        assert layout.text_px[(label, True)] > layout.text_px[(label, False)] >= 24
