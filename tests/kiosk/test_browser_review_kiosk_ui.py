"""Kiosk defects a review of the citizen's side found in Chromium, each test failing before its fix.

The picker's six matches (its cap) with a long procedure name pushed “← Nhập lại” below the screen in large text;
a rating still being sent was sent a second time by the queue's resend loop; a kiosk woken from sleep showed
the previous citizen's rating in progress, its idle timer having stood still while the device slept; the second
tap of a double tap on “Không phải hồ sơ của tôi” typed a digit on the start screen that replaced it (the keyboard
that could not write “thuở” or “huơ” is tested with its other words in test_browser_review_2026_12.py); the idle
countdown was an alertdialog without a name, its button out of the focus's reach; a citizen who chose
“A+ Chữ to” lost it on going back to the start screen (“Không phải hồ sơ của tôi”, “Quay lại”, “Nhập lại”); a camera
that would not open left its message on the start screen for every later citizen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, Route, expect

from sipas.storage import get_database
from sipas.units import get_unit
from tests.factories import create_dossier
from tests.kiosk.browser import VIEWPORTS, assert_accessible, open_kiosk, out_of_view
from tests.kiosk.helpers import responses, seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]
LONG_PROCEDURE = ("Cấp bản sao trích lục hộ tịch, xác nhận thông tin hộ tịch và đăng ký lại khai sinh "
                  "có yếu tố nước ngoài")


def test_the_picker_fits_six_long_matches_and_its_way_back_in_large_text(live_server, page: Page) -> None:
    setup = seed(live_server.app, dossiers=0)
    returned = datetime.now(UTC) - timedelta(hours=1)
    with get_database(live_server.app).session() as session:
        unit = get_unit(session, setup.unit_code)
        for day in range(6):  # the picker's cap, each with the long name the layout test uses
            create_dossier(session, unit, code=f"000.00.25.H57-26120{day}-0556", procedure=LONG_PROCEDURE,
                           received_at=returned - timedelta(days=3), returned_at=returned - timedelta(hours=day))
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.type("556")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("pick-item")).to_have_count(6)
    problems = []
    for label, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for large in (False, True):
            page.evaluate("large => document.documentElement.classList.toggle('rf-large', large)", large)
            outside = out_of_view(page)
            if outside:
                problems.append(f"{label}{' large' if large else ''}: {outside}")
            assert_accessible(page)
    assert problems == [], "\n".join(problems)
    # The procedure stays whole for a screen reader (the button's name), and a pick still starts the rating.
    expect(page.get_by_test_id("pick-item").first).to_contain_text(LONG_PROCEDURE)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_test_id("pick-item").first.tap()
    expect(page.get_by_test_id("confirm-panel")).to_contain_text(LONG_PROCEDURE)


def test_a_rating_being_sent_is_not_sent_again_by_the_resend_loop(live_server, page: Page) -> None:
    setup = seed(live_server.app, instrument="quay4")
    page.clock.install()
    open_kiosk(page, live_server, setup, "?thanks=600&heartbeat=600&poll=600")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("progress")).to_have_text("1/4")
    held: list[Route] = []
    page.route("**/api/submit", lambda route: held.append(route))  # a slow network: the answer has not come yet
    for _ in range(4):
        page.clock.run_for(500)
        page.locator(".rf-option--good").tap()
    page.clock.run_for(500)
    page.get_by_test_id("skip-comment").tap()
    page.clock.run_for(500)
    page.get_by_test_id("confirm").tap()
    queued = f"sipas-kiosk:{setup.unit_code}:queue"
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{queued}') || '[]').length === 1")
    page.clock.run_for(3_500)  # the queue's resend loop runs while the citizen's send is still on its way
    page.wait_for_timeout(300)
    sent = len(held)
    for route in held:
        route.continue_()
    expect(page.locator(".rf-thanks")).to_be_visible()
    assert sent == 1
    assert len(responses(live_server.app)) == 1


@pytest.mark.parametrize("wakes_by", ["the screen turning on", "the next citizen's touch"])
def test_a_kiosk_woken_from_sleep_does_not_show_the_previous_citizens_rating(live_server, page: Page,
                                                                             wakes_by: str) -> None:
    setup = seed(live_server.app)
    page.clock.install()
    open_kiosk(page, live_server, setup, "?heartbeat=600&poll=600")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    page.locator(".rf-option--bad").tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/12")  # the citizen walks away at question 2
    page.clock.run_for(20_000)
    # The device sleeps an hour: the wall clock goes on, the page's timers stand still (they count awake time).
    page.clock.set_system_time(page.evaluate("Date.now()") + 3_600_000)
    if wakes_by == "the screen turning on":
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    else:
        page.locator(".rf-question").tap()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.locator(".rf")).to_have_count(0)
    expect(page.get_by_test_id("code-display")).to_have_text("")
    page.clock.run_for(60_000)  # and nothing of the old rating's timers comes back over the start screen
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    assert responses(live_server.app) == []


def test_the_second_tap_of_a_double_tap_back_to_the_start_screen_types_nothing(live_server, page: Page) -> None:
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup, "?heartbeat=600&poll=600")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    reject = page.get_by_test_id("reject-dossier")
    expect(reject).to_be_visible()
    box = reject.bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.wait_for_timeout(600)  # the citizen reads the dossier and finds it is not theirs
    page.touchscreen.tap(x, y)
    page.wait_for_function("() => !document.getElementById('start-screen').hidden")
    page.touchscreen.tap(x, y)  # a finger bouncing: a key of the keypad lies there (1280×800)
    page.wait_for_timeout(700)
    expect(page.get_by_test_id("code-display")).to_have_text("")
    page.locator('#keypad [data-key="5"]').tap()  # the keypad answers a deliberate tap
    expect(page.get_by_test_id("code-display")).to_have_text("5")


def test_the_idle_countdown_is_a_named_dialog_holding_the_focus(live_server, page: Page) -> None:
    setup = seed(live_server.app)
    page.clock.install()
    open_kiosk(page, live_server, setup, "?heartbeat=600&poll=600")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("progress")).to_have_text("1/12")
    page.clock.run_for(46_000)
    dialog = page.get_by_role("alertdialog", name="Ông/bà còn đó không?")
    expect(dialog).to_be_visible()
    stay = dialog.get_by_role("button", name="Tôi vẫn đang đánh giá")
    expect(stay).to_be_focused()
    page.keyboard.press("Enter")  # a keyboard (or switch) user answers it where the focus is
    expect(page.get_by_test_id("countdown")).to_have_count(0)
    expect(page.get_by_test_id("progress")).to_have_text("1/12")
    expect(page.locator(".rf-question")).to_be_focused()  # back to the question, not lost with the dialog


@pytest.mark.parametrize("back", ["reject-dossier", "question-back", "pick-back"])
def test_going_back_keeps_the_citizens_text_size_until_the_idle_time(live_server, page: Page, back: str) -> None:
    setup = seed(live_server.app, dossiers=0)
    returned = datetime.now(UTC) - timedelta(hours=1)
    with get_database(live_server.app).session() as session:
        unit = get_unit(session, setup.unit_code)
        for day in range(2):
            create_dossier(session, unit, code=f"000.00.25.H57-26120{day}-0556", procedure=f"Thủ tục số {day + 1}",
                           received_at=returned - timedelta(days=3), returned_at=returned - timedelta(hours=day))
    page.clock.install()
    open_kiosk(page, live_server, setup, "?heartbeat=600&poll=600")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.locator("#text-size").tap()  # the citizen reads better in large text
    page.keyboard.type("556")
    page.keyboard.press("Enter")
    if back == "pick-back":
        page.get_by_test_id("pick-back").tap()
    else:
        page.get_by_test_id("pick-item").first.tap()
        expect(page.get_by_test_id("progress")).to_have_text("1/12")
        page.clock.run_for(500)
        page.locator(".rf-back" if back == "question-back" else "[data-testid=reject-dossier]").tap()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.locator("#text-size")).to_have_attribute("aria-pressed", "true")  # still theirs
    assert page.evaluate("document.documentElement.classList.contains('rf-large')")
    page.clock.run_for(61_000)  # they walk away: the next citizen gets the normal size
    expect(page.locator("#text-size")).to_have_attribute("aria-pressed", "false")
    assert not page.evaluate("document.documentElement.classList.contains('rf-large')")


# A browser with a barcode detector whose camera cannot be opened (unplugged, or permission refused).
NO_CAMERA = """window.BarcodeDetector = class { async detect() { return []; } };
navigator.mediaDevices.getUserMedia = async () => { throw new DOMException('no camera', 'NotAllowedError'); };"""


def test_a_camera_that_would_not_open_leaves_no_message_for_the_next_citizen(live_server, page: Page) -> None:
    setup = seed(live_server.app)
    page.add_init_script(NO_CAMERA)
    page.clock.install()
    open_kiosk(page, live_server, setup, "?heartbeat=600&poll=600")
    page.get_by_test_id("camera-scan").tap()
    message = page.get_by_test_id("start-message")
    expect(message).to_have_text("Không mở được máy ảnh. Vui lòng nhập mã hồ sơ trên bàn phím.")
    page.clock.run_for(61_000)  # the citizen walked away without typing
    expect(message).to_have_text("")
