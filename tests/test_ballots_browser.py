"""A clerk in Chromium keys three paper ballots with the keyboard only: digits, Enter, the running count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from sipas.models import Response, ResponseChannel
from sipas.storage import get_database
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_unit


@pytest.mark.browser
def test_a_clerk_keys_three_ballots_keyboard_only(live_server, page) -> None:  # type: ignore[no-untyped-def]
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phiếu Giấy")
        username = create_clerk(session, unit).username
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")
    page.goto(f"{live_server.url}/console/ballots")
    page.select_option("select[name=instrument]", "quay4")
    page.fill("input[name=handed_out]", "25")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="ballot-entry"]')
    # The keys jump from box to box once ballot_entry.js (deferred) has run: a busy machine drew the form first,
    # and the first digit typed into the bare box left the cursor one box short.
    page.wait_for_load_state("domcontentloaded")
    batch_url = page.url
    assert page.evaluate("document.activeElement.id") == "k_q1"
    page.keyboard.type("1213")
    assert page.evaluate("document.activeElement.id") == "dossier_code"
    page.keyboard.press("Enter")
    page.wait_for_selector("#ballot-lines tbody tr")
    assert page.locator('[data-testid="count"]').inner_text() == "1"
    assert page.evaluate("document.activeElement.id") == "k_q1"
    page.keyboard.type("1913")  # 9 is no option: refused, the cursor goes back to question 2
    page.keyboard.press("Enter")
    page.wait_for_selector("#entry-status.flash-error")
    assert "Câu 2" in page.locator("#entry-status").inner_text()
    assert page.evaluate("document.activeElement.id") == "k_q2"
    # The refused box is marked and described by the message: a screen reader says why when focus lands there.
    expect(page.locator("#k_q2")).to_have_attribute("aria-invalid", "true")
    said = page.locator("#entry-status").inner_text()
    expect(page.locator("#k_q2")).to_have_accessible_description(re.compile("^" + re.escape(said) + " 1 = "))
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#ballot-lines tbody tr")).to_have_count(2)
    expect(page.locator("#ballot-entry [aria-invalid]")).to_have_count(0)  # saved: no box is marked any more
    expect(page.locator("#k_q2")).to_have_accessible_description(re.compile("^1 = "))  # what its digits mean
    page.keyboard.type("3333")
    page.keyboard.press("Enter")
    expect(page.locator("#ballot-lines tbody tr")).to_have_count(3)
    assert page.locator('[data-testid="count"]').inner_text() == "3"
    assert page.locator("#next-position").inner_text() == "4"
    assert page.url == batch_url  # saved through fetch, no page load between ballots
    page.screenshot(path=screenshot_path("ballot-entry.png"), full_page=True)
    keyed = [row.inner_text().split("\t")[1] for row in page.locator("#ballot-lines tbody tr").all()]
    assert keyed == ["1 2 1 3", "1 2 1 3", "3 3 3 3"]
    with get_database(live_server.app).session() as session:
        stored = session.scalar(select(func.count()).select_from(Response)
                                .where(Response.channel == ResponseChannel.PAPER))
    assert stored == 3
    page.reload()
    assert page.locator('[data-testid="count"]').inner_text() == "3"
