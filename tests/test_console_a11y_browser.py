"""The clerk console by keyboard and screen reader in Chromium: where focus goes after an error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sipas.storage import get_database
from tests.factories import create_clerk, create_unit

FOCUSED = "() => [document.activeElement.tagName, document.activeElement.getAttribute('name'),"\
          " document.activeElement.textContent.trim(), getComputedStyle(document.activeElement).outlineStyle]"


@pytest.mark.browser
def test_after_a_refused_form_focus_is_on_the_message_then_on_the_form(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """A refused login came back with focus in the name box and the message in a status paragraph that a screen
    reader does not read on a new page: the clerk heard "Tên đăng nhập" and not why the login failed."""
    with get_database(live_server.app).session() as session:
        username = create_clerk(session, create_unit(session)).username
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "sai-mat-khau-roi")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    tag, _name, text, outline = page.evaluate(FOCUSED)
    assert (tag, text) == ("P", "Tên đăng nhập hoặc mật khẩu không đúng.")  # read out at once
    assert outline != "none"  # and the keyboard user sees where focus is
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)[:2] == ["INPUT", "username"]  # the next Tab goes on to the form
