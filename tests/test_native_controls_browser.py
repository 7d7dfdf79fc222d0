"""In Chromium, the login form sent empty reaches the server: its Vietnamese message, no English bubble."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_an_empty_login_shows_the_servers_vietnamese_message(live_server, page) -> None:  # type: ignore[no-untyped-def]
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", "hoa.le")
    with page.expect_navigation(timeout=10_000):  # a browser bubble would block the send
        page.click("button[type=submit]")
    assert posts == [f"{live_server.url}/console/login"]  # the browser did not stop the form itself
    expect(page.locator(".flash-error")).to_have_text("Vui lòng nhập tên đăng nhập và mật khẩu.")
    expect(page.locator("input[name=username]")).to_have_value("hoa.le")
    expect(page.locator("input[name=password]")).to_have_attribute("aria-required", "true")  # still told to AT
