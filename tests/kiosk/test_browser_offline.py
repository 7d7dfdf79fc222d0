"""The kiosk when the server is away or refuses: nothing lost, nothing stored twice, staff told."""

from __future__ import annotations

import dataclasses
import json
import time
from types import MappingProxyType

import pytest
from playwright.sync_api import Page, Route, expect

from kiosk.audio_build import AUDIO_DIR
from sipas.storage import get_database
from sipas.units import get_unit
from tests.factories import create_clerk
from tests.kiosk.browser import (
    RECORD_PLAYBACK,
    Taps,
    answer_all,
    last_sound_playable,
    login_console,
    open_kiosk,
    queue_length,
)
from tests.kiosk.helpers import device, responses, seed

AUDIO_MANIFEST = json.loads((AUDIO_DIR / "manifest.json").read_text(encoding="utf-8"))
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]

FACES_RENDERED = """() => [...document.querySelectorAll('.rf-option .rf-face')].map(face => {
  const box = face.getBoundingClientRect();
  const drawn = face.tagName === 'IMG' ? face.complete && face.naturalWidth > 0
    : face.querySelector('svg circle') !== null;
  return drawn && box.width > 20 && box.height > 20; })"""


def wait_until(check, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not check():
        time.sleep(0.2)
    assert check()


def test_offline_rating_is_thanked_queued_and_lands_exactly_once(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    page.add_init_script(RECORD_PLAYBACK)
    open_kiosk(page, live_server, setup, "?thanks=2")
    assert page.evaluate("window.sipasKiosk.audioReady") == len(set(AUDIO_MANIFEST.values()))  # all in memory
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
    assert queued[0]["body"]["device_id"] == setup.token.split(".")[0]  # its key is this device's, re-paired or not
    assert responses(live_server.app) == []

    # The next citizen, server still down: faces drawn and the read-aloud plays from the kiosk's memory.
    expect(page.get_by_test_id("keypad")).to_be_visible()
    page.keyboard.type(setup.dossiers[1])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-panel")).to_contain_text("chưa kết nối được máy chủ")
    faces = page.evaluate(FACES_RENDERED)
    assert len(faces) == 3 and all(faces), faces
    page.locator(".rf-listen--option").first.tap()
    last_sound_playable(page)
    page.locator(".rf-back").tap()  # this citizen leaves; the queued rating is the only one

    live_server.start()
    wait_until(lambda: len(responses(live_server.app)) == 1)
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=10000)
    # The answer to a send may be lost after the server stored it: the resend is acknowledged, not stored twice.
    page.evaluate("([key, items]) => localStorage.setItem(key, JSON.stringify(items.map(i => ({...i, next: 0}))))",
                  [queue_key, queued])
    page.evaluate("window.sipasKiosk.flush()")
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{queue_key}')).length === 0", timeout=10000)
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
    faces = page.evaluate(FACES_RENDERED)  # never shown before the outage: nothing to take from a cache
    assert len(faces) == 3 and all(faces), faces
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.get_by_test_id("thanks-note")).to_contain_text("đã được lưu trên kiosk")
    expect(page.locator(".rf-thanks svg.rf-face")).to_be_visible()
    live_server.start()
    page.evaluate("window.sipasKiosk.flush()")
    page.wait_for_function(
        f"() => JSON.parse(localStorage.getItem('sipas-kiosk:{setup.unit_code}:queue')).length === 0", timeout=15000)
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].dossier.code == setup.dossiers[0]


def test_wrong_code_typed_offline_is_kept_aside_and_counted_in_the_console(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    with get_database(live_server.app).session() as session:
        username = create_clerk(session, get_unit(session, setup.unit_code)).username
    open_kiosk(page, live_server, setup, "?thanks=30")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    live_server.stop()
    page.keyboard.type("000.00.20.H57-999999-9999")
    page.keyboard.press("Enter")
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.get_by_test_id("thanks-note")).to_contain_text("đã được lưu trên kiosk")
    live_server.start()
    page.evaluate("window.sipasKiosk.flush()")
    page.wait_for_function(
        f"() => JSON.parse(localStorage.getItem('sipas-kiosk:{setup.unit_code}:rejected') || '[]').length === 1")
    assert queue_length(page, setup.unit_code) == 0 and responses(live_server.app) == []
    wait_until(lambda: device(live_server.app, setup.device_id).rejected_count == 1, seconds=10)
    assert abs(device(live_server.app, setup.device_id).clock_offset_seconds) <= 5  # its clock, for sipas doctor
    console = page.context.new_page()
    login_console(console, live_server, username)
    console.goto(f"{live_server.url}/console/kiosks")
    expect(console.locator("tr[data-kiosk] [data-testid=rejected]")).to_have_text("1")
    expect(console.locator("tr[data-kiosk]")).to_contain_text("Cần kiểm tra")


def test_retries_without_browser_storage_resend_the_same_key(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4", anonymous=True)
    page.add_init_script("""const setItem = Storage.prototype.setItem;
Storage.prototype.setItem = function (key, value) {
  if (key.endsWith(':queue')) throw new DOMException('full', 'QuotaExceededError');
  return setItem.call(this, key, value);
};""")
    keys: list[str] = []

    def flaky(route: Route) -> None:
        keys.append(route.request.post_data_json["key"])
        if len(keys) <= 2:
            route.abort("connectionrefused")  # the server never saw these two
        else:
            route.continue_()

    page.route("**/api/submit", flaky)
    open_kiosk(page, live_server, setup, "?thanks=30")
    page.get_by_test_id("anonymous").tap()
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    for attempt in (1, 2):
        page.get_by_test_id("confirm").tap()
        expect(page.get_by_test_id("submit-error")).to_contain_text("Kiosk chưa gửi được đánh giá")
        assert len(keys) == attempt
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    assert len(keys) == 3 and len(set(keys)) == 1, keys
    assert len(responses(live_server.app)) == 1


def test_too_fast_second_rating_is_explained_kept_and_sent_later(live_server, page: Page):
    settings = live_server.app.extensions["sipas_settings"]
    live_server.app.extensions["sipas_settings"] = dataclasses.replace(
        settings, env=MappingProxyType({**settings.env, "SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "8"}))
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
    assert queue_length(page, setup.unit_code) == 1
    page.wait_for_function(
        f"() => JSON.parse(localStorage.getItem('sipas-kiosk:{setup.unit_code}:queue')).length === 0", timeout=15000)
    stored = responses(live_server.app)
    assert len(stored) == 2 and stored[1].answers[0].option_code == "khong_hai_long"
