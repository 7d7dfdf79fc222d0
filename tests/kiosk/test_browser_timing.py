"""Time on the kiosk, driven by Playwright's clock: idle resets with their countdown, and the double-tap guard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sipas.storage import get_database
from sipas.units import get_unit
from tests.kiosk.browser import RECORD_PLAYBACK, last_sound_playable, open_kiosk, shot
from tests.kiosk.helpers import responses, seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]
LARGE = "document.documentElement.classList.contains('rf-large')"


def font_size(page: Page, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def test_idle_reset_waits_for_the_last_15_seconds_to_count_down_and_discards_partial_answers(
        live_server, page: Page):
    setup = seed(live_server.app)
    page.clock.install()
    page.add_init_script(RECORD_PLAYBACK)
    # The real idle timings (60 s, countdown over the last 15 s); no heartbeat in flight while the clock jumps.
    open_kiosk(page, live_server, setup, "?heartbeat=600")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    page.locator(".rf-option--good").tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/12")
    shot(page, "question")
    normal = font_size(page, ".rf-option-label")
    page.locator("#text-size").tap()
    assert font_size(page, ".rf-option-label") >= normal * 1.25
    expect(page.locator("#text-size")).to_have_attribute("aria-pressed", "true")
    shot(page, "question-large")
    page.locator(".rf-listen--question").tap()  # the last touch
    assert str(last_sound_playable(page)["src"]).startswith("blob:")  # played from the copy in memory
    page.clock.run_for(44_000)
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    page.clock.run_for(1_500)
    expect(page.get_by_test_id("countdown")).to_be_visible()
    assert 14 <= int(page.get_by_test_id("countdown").inner_text()) <= 15
    expect(page.get_by_test_id("net-status")).to_have_text("Đã kết nối")
    shot(page, "countdown")
    page.clock.run_for(10_000)
    expect(page.get_by_test_id("countdown")).to_have_text("5")
    expect(page.get_by_test_id("progress")).to_have_text("2/12")  # still the citizen's until the end
    page.clock.run_for(5_500)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.get_by_test_id("code-display")).to_have_text("")
    expect(page.locator(".rf")).to_have_count(0)
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    assert page.evaluate(LARGE) is False
    assert responses(live_server.app) == []


def test_a_touch_during_the_countdown_keeps_the_citizens_answers(live_server, page: Page):
    setup = seed(live_server.app)
    page.clock.install()
    open_kiosk(page, live_server, setup)
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    page.locator(".rf-option--good").tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/12")
    page.clock.run_for(50_000)
    page.get_by_role("button", name="Tôi vẫn đang đánh giá").tap()  # over the answer buttons
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("progress")).to_have_text("2/12")  # the tap answered the countdown, nothing else
    expect(page.locator(".rf-option--chosen")).to_have_count(0)
    page.clock.run_for(44_000)
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    expect(page.get_by_test_id("progress")).to_have_text("2/12")


@pytest.mark.parametrize("first_tap", ["#text-size", "#key-clear"])
def test_a_lone_tap_on_the_start_screen_is_undone_for_the_next_citizen(live_server, page: Page, first_tap: str):
    setup = seed(live_server.app)
    page.clock.install()
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.locator(first_tap).tap()  # the only touch: it starts the idle time like any other
    large = page.evaluate(LARGE)
    page.clock.run_for(44_000)
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    page.clock.run_for(1_500)
    expect(page.get_by_test_id("countdown")).to_be_visible()
    page.clock.run_for(15_500)
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    assert page.evaluate(LARGE) is False and (first_tap != "#text-size" or large)
    expect(page.locator("#key-letters")).to_have_text("ABC Chữ")


def test_the_second_tap_of_a_double_tap_does_not_answer_the_next_question(live_server, page: Page):
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup)
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("progress")).to_have_text("1/12")
    box = page.locator(".rf-option--good").bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.wait_for_timeout(600)  # the citizen reads question 1
    page.touchscreen.tap(x, y)
    # Polled every animation frame (not expect's backoff), so the second tap follows within a few frames.
    page.wait_for_function("() => document.querySelector('[data-testid=progress]').textContent === '2/12'")
    page.touchscreen.tap(x, y)  # a finger bouncing: lands on question 2, at the same place, a moment later
    page.wait_for_timeout(700)
    expect(page.get_by_test_id("progress")).to_have_text("2/12")
    expect(page.locator(".rf-option--chosen")).to_have_count(0)
    page.touchscreen.tap(x, y)  # a deliberate tap once the question has been on screen
    expect(page.get_by_test_id("progress")).to_have_text("3/12")


def test_the_kiosk_takes_up_a_new_kiosk_form_at_its_start_screen_never_mid_flow(live_server, page: Page):
    setup = seed(live_server.app, anonymous=True)
    page.clock.install()
    open_kiosk(page, live_server, setup, "?poll=1")
    page.get_by_test_id("anonymous").tap()  # a citizen is rating hue12
    expect(page.get_by_test_id("progress")).to_have_text("1/12")
    with get_database(live_server.app).session() as session:
        get_unit(session, setup.unit_code).default_instrument = "quay4"  # chosen in the console meanwhile
    page.clock.run_for(35_000)
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("progress")).to_have_text("1/12")  # the citizen is not interrupted
    page.locator(".rf-back").tap()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.clock.run_for(2_000)  # the next poll names quay4: the page reloads with it
    page.wait_for_function("() => JSON.parse(document.getElementById('instrument').textContent).code === 'quay4'")
    page.get_by_test_id("anonymous").tap()
    expect(page.get_by_test_id("progress")).to_have_text("1/4")
