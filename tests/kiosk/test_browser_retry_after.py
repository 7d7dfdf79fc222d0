"""The kiosk's queue honours 503 + Retry-After (the server's database is unavailable): it waits at least that
long before resending, instead of hammering the server every few seconds."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.kiosk.browser import Taps, answer_all, open_kiosk
from tests.kiosk.helpers import responses, seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]

UNAVAILABLE = {"error": {"code": "database_unavailable", "reason": "database_unreachable", "retry_after": 40,
                         "message": "Hệ thống tạm thời không truy cập được cơ sở dữ liệu."}}


def test_a_rating_refused_with_503_waits_for_retry_after_before_it_is_resent(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4", anonymous=True)
    sent: list[str] = []

    def unavailable(route: Route) -> None:
        sent.append(route.request.method)
        route.fulfill(status=503, headers={"Retry-After": "40"}, content_type="application/json",
                      body=json.dumps(UNAVAILABLE))

    page.route("**/api/submit", unavailable)
    open_kiosk(page, live_server, setup, "?thanks=1")
    page.get_by_test_id("anonymous").tap()
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.get_by_test_id("thanks-note")).to_contain_text("đã được lưu trên kiosk")
    stored = f"JSON.parse(localStorage.getItem('sipas-kiosk:{setup.unit_code}:queue'))"
    queued = page.evaluate(stored)
    assert len(queued) == 1 and queued[0]["tries"] == 1
    wait = page.evaluate(f"{stored}[0].next - Date.now()")
    assert 30_000 < wait <= 40_000  # not the 2 s of a first retry: the server asked for 40
    page.evaluate("window.sipasKiosk.flush()")  # the periodic resend and the browser's "online" event do this
    page.evaluate("window.sipasKiosk.flush()")
    assert sent == ["POST"] and responses(live_server.app) == []
    page.unroute("**/api/submit")
    page.evaluate(f"""() => {{ const key = 'sipas-kiosk:{setup.unit_code}:queue';
        const items = JSON.parse(localStorage.getItem(key)); items[0].next = 0;
        localStorage.setItem(key, JSON.stringify(items)); }}""")
    assert page.evaluate("window.sipasKiosk.flush().then(() => 'flushed')") == "flushed"
    assert len(responses(live_server.app)) == 0  # the server's own wait (40 s) is not over yet
