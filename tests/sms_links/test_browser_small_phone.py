"""The phone form on a small phone (360×640, issue 13): every option in view, plain questions with the legal
wording under them, and a review screen with whole questions and a send button always reachable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sipas.catalogue import load_catalogue
from sipas.clock import utcnow
from sipas.settings import DEFAULT_CONFIG_DIR
from sipas.storage import get_database
from sms_gateway.links import issue_link, link_url
from tests.browser_support import screenshot_path
from tests.factories import create_dossier, create_unit

SMALL = {"viewport": {"width": 360, "height": 640}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2,
         "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}
# Every option button of the question on screen, relative to the viewport, and how far the page is scrolled.
OPTIONS_IN_VIEW = """() => ({ scrolled: document.scrollingElement.scrollTop,
  out: [...document.querySelectorAll('.rf-option')].map(b => b.getBoundingClientRect())
    .filter(r => r.top < 0 || r.bottom > innerHeight || r.right > innerWidth).length,
  count: document.querySelectorAll('.rf-option').length })"""


@pytest.fixture
def small_phone(browser):
    context = browser.new_context(**SMALL)
    yield context
    context.close()


def open_link(live_server, instrument: str) -> str:
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        dossier = create_dossier(session, unit, procedure="Cấp bản sao trích lục hộ tịch")
        now = utcnow()
        link = issue_link(session, dossier, instrument_code=instrument, channel="sms", now=now,
                          expires_at=now + timedelta(days=7))
        return link_url(live_server.app.extensions["sipas_settings"], link)


@pytest.mark.browser
@pytest.mark.parametrize("instrument", ["hue12", "quay4", "tt01_2018"])
def test_every_option_of_every_question_is_in_view_at_360x640(live_server, small_phone, instrument):
    criteria = load_catalogue(DEFAULT_CONFIG_DIR).current(instrument, utcnow().date()).citizen_criteria
    page = small_phone.new_page()
    page.goto(open_link(live_server, instrument))
    for number, criterion in enumerate(criteria, start=1):
        page.locator('[data-testid="progress"]').filter(has_text=f"{number}/{len(criteria)}").wait_for()
        assert page.locator("h2.rf-question").inner_text() == criterion.asked_as  # the plain question
        legal = page.get_by_test_id("legal-text")
        assert not legal.locator("p").is_visible()  # one line until asked for
        state = page.evaluate(OPTIONS_IN_VIEW)
        assert state["count"] == len(criterion.options) + criterion.allow_na
        assert state == {"scrolled": 0, "out": 0, "count": state["count"]}, (criterion.code, state)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        if number == 1 and instrument == "hue12":
            page.screenshot(path=screenshot_path("phone-question-360.png"))
            legal.locator("summary").tap()
            assert legal.locator("p").inner_text() == criterion.label  # the legal wording, under it
        page.locator(".rf-option--bad").first.tap()
    page.locator('[data-screen="comment"]').wait_for()


@pytest.mark.browser
def test_the_review_shows_whole_questions_with_answers_beneath_and_a_reachable_send_button(live_server, small_phone):
    criteria = load_catalogue(DEFAULT_CONFIG_DIR).current("hue12", utcnow().date()).citizen_criteria
    page = small_phone.new_page()
    page.goto(open_link(live_server, "hue12"))
    for number in range(1, len(criteria) + 1):
        page.locator('[data-testid="progress"]').filter(has_text=f"{number}/{len(criteria)}").wait_for()
        page.locator(".rf-option--mid").first.tap()
    page.locator(".rf-skip").tap()
    page.locator('[data-screen="summary"]').wait_for()
    labels = page.locator(".rf-summary-label")
    assert labels.all_inner_texts() == [c.asked_as for c in criteria]  # whole, never "Mức độ…"
    for item in page.locator(".rf-summary-item").all():
        clipped = item.locator(".rf-summary-label").evaluate("(e) => e.scrollHeight > e.clientHeight + 1")
        label_box, chip_box = item.locator(".rf-summary-label").bounding_box(), item.locator(".rf-chip").bounding_box()
        assert not clipped and chip_box["y"] >= label_box["y"] + label_box["height"] - 1  # the answer beneath
    send = page.get_by_test_id("confirm")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360  # nothing wider than the phone
    page.screenshot(path=screenshot_path("phone-summary-360.png"))
    for position in ("0", "document.scrollingElement.scrollHeight / 2", "document.scrollingElement.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {position})")
        box = send.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 640, (position, box)
    send.tap()
    page.locator('[data-screen="thanks"]').wait_for()
