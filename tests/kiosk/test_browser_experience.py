"""What a citizen at the kiosk stumbled on (issue 13): the device name after a reload, the polite
"already rated", and a favicon instead of a 404 on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sipas.dossiers import find_dossier
from sipas.storage import get_database
from sipas.units import get_unit
from tests.factories import create_clerk, create_response, create_unit
from tests.kiosk.browser import login_console, open_kiosk, shot
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


def test_the_pairing_link_in_the_console_is_a_link_that_pairs_the_kiosk(live_server, page: Page):
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        username, unit_code = create_clerk(session, unit).username, unit.code
    login_console(page, live_server, username)
    page.goto(f"{live_server.url}/console/kiosks")
    page.fill('input[name="name"]', "Quầy 2")
    page.get_by_role("button", name="Tạo mã ghép nối").click()
    link = page.get_by_test_id("pairing-link")
    assert link.evaluate("(e) => e.tagName") == "A" and link.get_attribute("href") == link.inner_text()
    with page.context.expect_page() as opened:
        link.click()  # a new tab: the code page, shown once, stays open behind it
    kiosk = opened.value
    expect(kiosk.get_by_test_id("keypad")).to_be_visible()
    expect(kiosk.locator("#device-name")).to_have_text("Quầy 2")
    assert kiosk.evaluate(f"localStorage.getItem('sipas-kiosk:{unit_code}:token')")
    expect(page.get_by_test_id("pairing-code")).to_be_visible()


def _returned_today(live_server, setup, code: str, procedure: str, hours_ago: int, phone: str | None = None) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from tests.factories import create_dossier

    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    with get_database(live_server.app).session() as session:
        create_dossier(session, get_unit(session, setup.unit_code), code=code, procedure=procedure,
                       received_at=at - timedelta(days=3), returned_at=at, phone=phone, sms_consent=bool(phone))


def test_the_last_digits_and_a_pick_replace_typing_the_whole_code(live_server, page: Page):
    from tests.kiosk.browser import Taps, answer_all, type_on_keypad
    from tests.kiosk.helpers import responses

    setup = seed(live_server.app, dossiers=0)
    full = "000.00.25.H57-261203-0556"
    _returned_today(live_server, setup, full, "Chứng thực bản sao từ bản chính", 1, phone="+84912345678")
    _returned_today(live_server, setup, "000.00.25.H57-261201-0556", "Đăng ký kết hôn", 30)
    _returned_today(live_server, setup, "000.00.25.H57-261203-0557", "Cấp bản sao trích lục hộ tịch", 2)
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()

    before = Taps(page)  # the whole code, as the issue measured it
    type_on_keypad(page, before, full)
    before("#code-next")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("Chứng thực bản sao từ bản chính")
    page.get_by_test_id("reject-dossier").tap()
    expect(page.get_by_test_id("keypad")).to_be_visible()

    after = Taps(page)
    type_on_keypad(page, after, "556")
    after("#code-next")
    picks = page.get_by_test_id("pick-item")
    expect(picks).to_have_count(2)
    listing = page.get_by_test_id("pick-list").inner_text()
    assert "Chứng thực bản sao từ bản chính" in listing and "Đăng ký kết hôn" in listing
    assert "912345678" not in page.content() and full not in page.content()  # procedure and day only
    shot(page, "pick")
    after('[data-testid="pick-item"] >> nth=0')
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("Chứng thực bản sao từ bản chính")
    print(f"\ntaps to reach question 1: whole code {before.count}, last digits and a pick {after.count}")
    assert before.count >= 26 and after.count == 5
    answer_all(page, Taps(page), 12)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].dossier.code == full

    open_kiosk(page, live_server, setup)  # the same digits again: the rated dossier is no longer offered
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.type("0557")
    page.keyboard.press("Enter")  # a single match goes straight to its confirmation
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("Cấp bản sao trích lục hộ tịch")
    page.get_by_test_id("reject-dossier").tap()
    page.keyboard.type("9999")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("start-message")).to_contain_text("Không có hồ sơ trả kết quả gần đây có số cuối 9999")


# A camera and a barcode detector, for a browser that has neither here: the stream is a painted canvas and the
# detector "reads" the code the test planted once the video plays.
FAKE_CAMERA = """window.BarcodeDetector = class {
  constructor() {}
  static async getSupportedFormats() { return ['qr_code', 'code_128']; }
  async detect(video) { return video.readyState >= 2 && window.__receipt ? [{ rawValue: window.__receipt }] : []; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 48 });
  const paint = () => { canvas.getContext('2d').fillRect(0, 0, 64, 48); };
  paint(); setInterval(paint, 100);
  return canvas.captureStream(10);
};"""


def test_the_receipts_qr_read_by_the_camera_starts_the_rating(live_server, page: Page):
    setup = seed(live_server.app, dossiers=1)
    page.add_init_script(FAKE_CAMERA)
    open_kiosk(page, live_server, setup)
    camera = page.get_by_test_id("camera-scan")
    expect(camera).to_be_visible()  # shown only where a camera and a detector exist
    camera.tap()
    expect(page.locator("#camera-screen")).to_be_visible()
    page.evaluate(f"window.__receipt = 'https://dichvucong.example/tra-cuu?ma={setup.dossiers[0]}'")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("Đăng ký khai sinh")
    assert page.evaluate("document.getElementById('camera-video').srcObject") is None  # the camera is off again


def test_without_a_camera_the_scan_button_is_not_offered(live_server, page: Page):
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.get_by_test_id("camera-scan")).to_be_hidden()
