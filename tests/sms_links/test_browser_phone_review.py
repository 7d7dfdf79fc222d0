"""The phone form: defects a review found in Chromium (2026-12-07), each test failing before its fix.

The toggle of the legal wording was 44 px tall and the blank ballot's dossier-code field 21 px tall with 13 px
text (targets are at least 48 px); on a stalled connection "Gửi đánh giá" stayed disabled without a word, so the
citizen could neither see what happened nor send again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sipas.clock import utcnow
from sipas.storage import get_database
from sms_gateway.blank_ballots import mint_blank_links
from sms_gateway.links import issue_link, link_url
from tests.factories import create_dossier, create_unit

pytestmark = [pytest.mark.browser]
PHONE = {"viewport": {"width": 320, "height": 640}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2,
         "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def _link(live_server) -> str:  # type: ignore[no-untyped-def]
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        dossier = create_dossier(session, unit, procedure="Đăng ký khai sinh")
        now = utcnow()
        link = issue_link(session, dossier, instrument_code="hue12", channel="sms", now=now,
                          expires_at=now + timedelta(days=7))
        return link_url(live_server.app.extensions["sipas_settings"], link)


def test_the_legal_wording_toggle_is_a_full_touch_target(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(_link(live_server))
    phone.locator('[data-testid="progress"]').filter(has_text="1/12").wait_for()
    box = phone.get_by_test_id("legal-text").locator("summary").bounding_box()
    assert box is not None and box["height"] >= 48, box


def test_the_blank_ballot_dossier_code_field_is_a_full_touch_target(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        [link] = mint_blank_links(session, unit, "hue12", 1, now=utcnow())
        url = link_url(live_server.app.extensions["sipas_settings"], link)
    phone.goto(url)
    field = phone.locator("#dossier_code")
    box = field.bounding_box()
    font = field.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert box is not None and box["height"] >= 48 and font >= 16, (box, font)
    assert box["width"] >= 250  # the whole width of the phone, less its margins


def test_a_stalled_send_says_so_and_can_be_sent_again(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    phone.goto(_link(live_server))
    held = []
    phone.route("**/r/*", lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    for n in range(1, 13):
        phone.locator('[data-testid="progress"]').filter(has_text=f"{n}/12").wait_for()
        phone.locator(".rf-option--good").first.tap()
    phone.clock.install()  # the page's timers on a clock the test moves: the 15-s wait is not spent
    phone.locator(".rf-skip").tap()
    phone.get_by_test_id("confirm").tap()
    phone.wait_for_function("document.querySelector('[data-testid=confirm]').disabled")  # sending
    phone.clock.run_for(14_000)  # the request never answers (stalled mobile data): the form still waits
    assert phone.get_by_test_id("confirm").is_disabled() and not phone.get_by_test_id("submit-error").inner_text()
    phone.clock.run_for(2_000)  # past the form's 15 s, it gives up
    phone.get_by_test_id("submit-error").filter(has_text="gửi lại").wait_for()
    message = phone.get_by_test_id("submit-error").inner_text()
    enabled = not phone.get_by_test_id("confirm").is_disabled()
    for route in held:
        route.abort()
    assert enabled and "gửi lại" in message, message


def test_a_long_comment_on_the_phone_is_kept_up_to_the_plain_forms_limit(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    """The component's comment box held 500 characters where the plain form and the server take 2 000: a citizen
    pasting a 1 200-character complaint saw it cut at 500 without a word, and only 500 were stored."""
    from sqlalchemy import select

    from sipas.models import Response

    phone.goto(_link(live_server))
    for n in range(1, 13):
        phone.locator('[data-testid="progress"]').filter(has_text=f"{n}/12").wait_for()
        phone.locator(".rf-option--good").first.tap()
    complaint = ("Đề nghị cán bộ hướng dẫn rõ hơn về giấy tờ cần nộp, tôi phải đi lại nhiều lần. " * 20)[:1200]
    phone.locator(".rf-comment-input").fill(complaint)
    assert phone.locator(".rf-comment-input").input_value() == complaint
    phone.locator(".rf-next").tap()
    phone.get_by_test_id("confirm").tap()
    phone.locator('[data-screen="thanks"]').wait_for()
    with get_database(live_server.app).session() as session:
        stored = session.scalars(select(Response.comment)).all()
    assert stored == [" ".join(complaint.split())]
