"""The kiosk in Debian's Chromium (touch on, network off): what a citizen and a clerk actually do."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from kiosk.models import KioskDevice
from kiosk.services import KioskRules, arm
from sipas.models import ResponseChannel
from sipas.storage import get_database
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_response, create_unit
from tests.kiosk.helpers import device, responses, seed

pytestmark = pytest.mark.browser


class Taps:
    """Counts every tap the test makes, so the tap budget is measured, not assumed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def __call__(self, selector: str) -> None:
        self.page.locator(selector).first.tap()
        self.count += 1


@pytest.fixture(autouse=True)
def short_timeouts(page: Page) -> None:
    page.set_default_timeout(8000)
    expect.set_options(timeout=5000)


def open_kiosk(page: Page, live_server, setup, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    if setup.token:
        page.add_init_script(f"localStorage.setItem('sipas-kiosk:{setup.unit_code}:token', '{setup.token}')")
    page.goto(f"{live_server.url}/kiosk/{setup.unit_code}{query}")
    return requests


def type_on_keypad(page: Page, taps: Taps, code: str) -> None:
    for ch in code:
        if ch.isalpha():
            taps("#key-letters")
        taps(f'#keypad [data-key="{ch}"]')


def answer_all(page: Page, taps: Taps, total: int, pick: str = ".rf-option--good") -> None:
    for number in range(1, total + 1):
        expect(page.get_by_test_id("progress")).to_have_text(f"{number}/{total}")
        taps(pick)


SMALL_TARGETS = """() => [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null)
  .map(b => { const r = b.getBoundingClientRect(); return [b.textContent.trim(), r.width, r.height]; })
  .filter(([, w, h]) => w < 56 || h < 56)"""
SMALL_TEXT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])
  .filter(([, px]) => px < 24)"""
CONTRAST = """() => [...document.querySelectorAll('.rf-option, .rf-chip, .rf-primary, .k-key--go')].map(e => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const lum = (c) => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const s = getComputedStyle(e); const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
  return [e.textContent.trim(), (a + 0.05) / (b + 0.05)]; })"""


def assert_accessible(page: Page) -> None:
    """Touch targets at least 56×56 CSS px, text at least 24 px, coloured buttons at WCAG AA contrast."""
    assert page.evaluate(SMALL_TARGETS) == []
    assert page.evaluate(SMALL_TEXT) == []
    ratios = page.evaluate(CONTRAST)
    assert ratios and [(text, ratio) for text, ratio in ratios if ratio < 4.5] == []


def shot(page: Page, name: str) -> None:
    """Screenshots for docs/kiosk.md (see ``screenshot_path``)."""
    assert page.screenshot(path=screenshot_path(f"kiosk-{name}.png"))


def test_whole_flow_by_keypad_in_14_taps_and_no_request_leaves_localhost(live_server, page: Page):
    setup = seed(live_server.app, code="000.00.20.H57-230301-0001")
    requests = open_kiosk(page, live_server, setup, "?thanks=2")
    taps = Taps(page)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    assert_accessible(page)
    shot(page, "start")
    type_on_keypad(page, taps, setup.dossiers[0])
    expect(page.get_by_test_id("code-display")).to_have_text(setup.dossiers[0])
    taps("#code-next")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("Đăng ký khai sinh")
    assert_accessible(page)
    shot(page, "confirm")
    taps.count = 0  # the budget starts once the code is entered
    answer_all(page, taps, 12)
    expect(page.locator('[data-screen="comment"]')).to_be_visible()
    taps('[data-testid="skip-comment"]')
    expect(page.locator(".rf-summary-item")).to_have_count(12)
    assert_accessible(page)
    taps('[data-testid="confirm"]')
    expect(page.locator(".rf-thanks h2")).to_have_text("Cảm ơn ông/bà đã đánh giá!")
    assert taps.count == 14
    stored = responses(live_server.app)
    assert len(stored) == 1
    assert stored[0].channel is ResponseChannel.KIOSK and stored[0].dossier.code == setup.dossiers[0]
    assert stored[0].source.startswith("kiosk:") and stored[0].comment is None
    assert [a.option_code for a in stored[0].answers] == ["rat_hai_long"] * 12
    expect(page.get_by_test_id("code-display")).to_have_text("")  # back to the start after the thanks
    assert requests and all(url.startswith(live_server.url + "/") for url in requests), requests


def test_scanner_back_navigation_comment_with_diacritics_and_summary_edit(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    open_kiosk(page, live_server, setup)
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.type(setup.dossiers[0])  # a barcode scanner types the code and presses Enter
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("progress")).to_have_text("1/4")
    page.locator(".rf-option--bad").tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/4")
    page.locator(".rf-back").tap()
    expect(page.get_by_test_id("progress")).to_have_text("1/4")
    expect(page.locator('.rf-option--bad[aria-pressed="true"]')).to_be_visible()
    page.locator(".rf-option--good").tap()
    expect(page.locator(".rf-question")).to_have_text("Thái độ, hướng dẫn, tiếp nhận và trả kết quả")
    page.locator(".rf-option--mid").tap()
    expect(page.get_by_test_id("progress")).to_have_text("3/4")
    expect(page.locator(".rf-option--good .rf-option-label")).to_have_text("Đúng hẹn")
    page.set_viewport_size({"width": 800, "height": 1280})
    assert_accessible(page)
    shot(page, "portrait-question")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator(".rf-option--good").tap()
    expect(page.get_by_test_id("progress")).to_have_text("4/4")
    page.locator(".rf-option--good").tap()
    keyboard = page.get_by_test_id("vi-keyboard")
    for key in ["t", "o", "t"]:
        keyboard.get_by_role("button", name=key, exact=True).tap()
    keyboard.get_by_role("button", name="dấu mũ").tap()
    keyboard.get_by_role("button", name="dấu sắc").tap()
    expect(page.locator(".rf-comment-input")).to_have_value("tốt")
    assert_accessible(page)
    shot(page, "comment")
    page.locator(".rf-next").tap()
    expect(page.locator(".rf-summary-comment")).to_have_text("Góp ý: tốt")
    page.locator('.rf-summary-item[data-criterion="q2"]').tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/4")
    page.locator(".rf-option--bad").tap()
    expect(page.locator('.rf-summary-item[data-criterion="q2"] .rf-chip')).to_have_text("Không hài lòng")
    shot(page, "summary")
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    shot(page, "thanks")
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].comment == "tốt"
    assert [a.option_code for a in stored[0].answers] == ["rat_hai_long", "khong_hai_long", "dung_hen", "don_gian"]


def test_idle_reset_shows_a_countdown_and_discards_partial_answers(live_server, page: Page):
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup, "?idle=6&countdown=4")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    page.locator(".rf-option--good").tap()
    expect(page.get_by_test_id("progress")).to_have_text("2/12")
    shot(page, "question")
    normal = page.locator(".rf-question").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    page.locator("#text-size").tap()
    assert page.locator(".rf-question").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") > normal * 1.2
    with page.expect_request(lambda r: r.url.startswith(live_server.url) and r.url.endswith(".ogg")):
        page.locator(".rf-listen--question").tap()
    expect(page.get_by_test_id("countdown")).to_be_visible(timeout=8000)
    countdown = int(page.get_by_test_id("countdown").inner_text())
    assert 1 <= countdown <= 4
    shot(page, "countdown")
    expect(page.get_by_test_id("keypad")).to_be_visible(timeout=8000)
    expect(page.get_by_test_id("code-display")).to_have_text("")
    expect(page.locator(".rf")).to_have_count(0)
    assert page.evaluate("document.documentElement.classList.contains('rf-large')") is False
    assert responses(live_server.app) == []


def test_already_rated_dossier_is_refused_at_lookup(live_server, page: Page, catalogue):
    setup = seed(live_server.app, dossiers=1)
    with get_database(live_server.app).session() as session:
        from sipas.dossiers import find_dossier
        from sipas.units import get_unit

        unit = get_unit(session, setup.unit_code)
        create_response(session, catalogue, unit, dossier=find_dossier(session, unit, setup.dossiers[0]))
    open_kiosk(page, live_server, setup)
    page.keyboard.type(f"https://dichvucong.example/tra-cuu?ma={setup.dossiers[0]}")  # a QR holding a link
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("code-display")).to_have_text(setup.dossiers[0])
    expect(page.get_by_test_id("start-message")).to_have_text("Hồ sơ này đã được đánh giá. Xin cảm ơn ông/bà.")
    expect(page.locator(".rf")).to_have_count(0)
    assert len(responses(live_server.app)) == 1


def test_anonymous_rating_without_a_dossier_code(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4", anonymous=True)
    open_kiosk(page, live_server, setup)
    page.get_by_test_id("anonymous").tap()
    answer_all(page, Taps(page), 4, ".rf-option--mid")
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].dossier is None and stored[0].instrument_code == "quay4"


def test_clerk_pairs_in_the_console_kiosk_types_the_code_clerk_revokes(live_server, page: Page):
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        username, unit_code = create_clerk(session, unit).username, unit.code
    console = page.context.new_page()
    console.on("dialog", lambda dialog: dialog.accept())
    console.goto(f"{live_server.url}/console/login")
    console.fill('input[name="username"]', username)
    console.fill('input[name="password"]', PASSWORD)
    console.get_by_role("button", name="Đăng nhập").click()
    console.goto(f"{live_server.url}/console/kiosks")
    console.fill('input[name="name"]', "Quầy 1")
    console.get_by_role("button", name="Tạo mã ghép nối").click()
    code = console.get_by_test_id("pairing-code").inner_text()
    shot(console, "console")
    page.bring_to_front()  # a background tab gets throttled animation frames, which slows every tap
    page.goto(f"{live_server.url}/kiosk/{unit_code}?poll=1")
    expect(page.get_by_test_id("pair-code")).to_be_visible()
    shot(page, "pairing")
    for digit in code:
        page.locator(f'#pair-keypad [data-digit="{digit}"]').tap()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    assert page.evaluate(f"localStorage.getItem('sipas-kiosk:{unit_code}:token')")
    console.goto(f"{live_server.url}/console/kiosks")
    expect(console.locator("tr[data-kiosk]")).to_contain_text("Đang hoạt động")
    console.get_by_role("button", name="Thu hồi").click()
    expect(console.locator("tr[data-kiosk]")).to_contain_text("Đã thu hồi")
    expect(page.get_by_test_id("pair-message")).to_have_text(
        "Kiosk này đã bị thu hồi quyền gửi đánh giá. Vui lòng báo cán bộ một cửa.")
    assert page.evaluate(f"localStorage.getItem('sipas-kiosk:{unit_code}:token')") is None


def test_armed_kiosk_goes_straight_to_the_rating(live_server, page: Page):
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup, "?poll=1")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    with get_database(live_server.app).session() as session:
        arm(session, session.get(KioskDevice, setup.device_id), setup.dossiers[1], now=datetime.now(UTC),
            actor="test", rules=KioskRules())
    expect(page.get_by_test_id("confirm-panel")).to_contain_text(setup.dossiers[1], timeout=5000)
    assert device(live_server.app, setup.device_id).armed_dossier_id is None  # handed over once


def test_offline_rating_is_thanked_queued_and_lands_exactly_once(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    open_kiosk(page, live_server, setup, "?thanks=30")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    live_server.stop()
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks h2")).to_have_text("Cảm ơn ông/bà đã đánh giá!")
    expect(page.get_by_test_id("thanks-note")).to_contain_text("đã được lưu trên kiosk")
    queue_key = f"sipas-kiosk:{setup.unit_code}:queue"
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('{queue_key}'))")
    assert len(queued) == 1 and queued[0]["body"]["dossier_code"] == setup.dossiers[0]
    assert responses(live_server.app) == []
    live_server.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not responses(live_server.app):
        time.sleep(0.3)
    assert len(responses(live_server.app)) == 1
    page.wait_for_function(f"JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=10000)
    # The answer to a send may be lost after the server stored it: the resend is acknowledged, not stored twice.
    page.evaluate("([key, items]) => localStorage.setItem(key, JSON.stringify(items.map(i => ({...i, next: 0}))))",
                  [queue_key, queued])
    page.evaluate("window.sipasKiosk.flush()")
    page.wait_for_function(f"JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=10000)
    assert len(responses(live_server.app)) == 1
    assert device(live_server.app, setup.device_id).queued_count == 0


def test_code_typed_while_the_server_is_down_is_rated_and_checked_on_resend(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    open_kiosk(page, live_server, setup, "?thanks=30")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    live_server.stop()
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("chưa kết nối được máy chủ")
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.get_by_test_id("thanks-note")).to_contain_text("đã được lưu trên kiosk")
    live_server.start()
    page.evaluate("window.sipasKiosk.flush()")
    queue_key = f"sipas-kiosk:{setup.unit_code}:queue"
    page.wait_for_function(f"JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=15000)
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].dossier.code == setup.dossiers[0]


def test_too_fast_second_rating_is_explained_kept_and_sent_later(live_server, page: Page):
    import dataclasses
    from types import MappingProxyType

    settings = live_server.app.extensions["sipas_settings"]
    live_server.app.extensions["sipas_settings"] = dataclasses.replace(
        settings, env=MappingProxyType({**settings.env, "SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "3"}))
    setup = seed(live_server.app, instrument="quay4", anonymous=True)
    open_kiosk(page, live_server, setup, "?thanks=1")
    for option in (".rf-option--good", ".rf-option--bad"):
        page.get_by_test_id("anonymous").tap()
        answer_all(page, Taps(page), 4, option)
        page.get_by_test_id("skip-comment").tap()
        page.get_by_test_id("confirm").tap()
        expect(page.locator(".rf-thanks")).to_be_visible()
    expect(page.get_by_test_id("thanks-note")).to_contain_text("Kiosk vừa gửi một phiếu đánh giá")
    assert len(responses(live_server.app)) == 1
    queue_key = f"sipas-kiosk:{setup.unit_code}:queue"
    assert page.evaluate(f"JSON.parse(localStorage.getItem('{queue_key}')).length") == 1
    page.wait_for_function(f"JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=10000)
    stored = responses(live_server.app)
    assert len(stored) == 2 and stored[1].answers[0].option_code == "khong_hai_long"
