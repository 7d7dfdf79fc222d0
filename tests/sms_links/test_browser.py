"""The phone form and a printed slip in Chromium, at a phone's size with touch."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import select

from sipas.clock import utcnow
from sipas.models import Response, ResponseChannel
from sipas.storage import get_database
from sms_gateway.links import issue_link, link_url
from sms_gateway.models_links import ShortLink
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_dossier, create_response, create_unit
from tests.kiosk.browser import skip_tap_waits

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2,
         "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def seed(live_server, *, channel: str = "sms"):
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        dossier = create_dossier(session, unit, procedure="Đăng ký khai sinh")
        now = utcnow()
        link = issue_link(session, dossier, instrument_code="hue12", channel=channel, now=now,
                          expires_at=now + timedelta(days=7))
        clerk = create_clerk(session, unit)
        return {"unit": unit.code, "dossier": dossier.code, "code": link.code, "user": clerk.username,
                "url": link_url(live_server.app.extensions["sipas_settings"], link)}


def stored(live_server) -> list[Response]:
    with get_database(live_server.app).session() as session:
        return list(session.scalars(select(Response)))


def rate_all(page, total: int = 12) -> None:
    """Pick "good" on every question, without waiting out the form's short waits (see skip_tap_waits)."""
    for number in range(1, total + 1):
        page.locator('[data-testid="progress"]').filter(has_text=f"{number}/{total}").wait_for()
        page.locator(".rf-option--good").first.tap()
        skip_tap_waits(page)
    page.locator('[data-screen="comment"]').wait_for()


@pytest.mark.browser
def test_rating_through_a_link_on_a_phone_works_once_and_only_once(live_server, phone):
    data = seed(live_server)
    page, other_tab = phone.new_page(), phone.new_page()
    requests: list[str] = []
    weight: list[int] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: weight.append(len(response.body())))
    page.goto(data["url"])
    other_tab.goto(data["url"])  # opened twice before submitting: a GET spends nothing
    page.locator(".rf--phone [data-screen='question']").wait_for()
    assert all(url.startswith(live_server.url) for url in requests)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    for box in (b.bounding_box() for b in page.locator(".rf-option").all()):
        assert box and box["height"] >= 44 and box["width"] >= 44
    page.screenshot(path=screenshot_path("phone-form.png"))
    print(f"\nphone form page weight: {sum(weight)} bytes in {len(weight)} responses")
    assert sum(weight) < 80_000

    page.bring_to_front()  # a background tab's timers are throttled
    rate_all(page)
    page.locator(".rf-comment-input").fill("Cán bộ hướng dẫn tận tình")
    page.locator(".rf-next").tap()
    page.locator('[data-testid="confirm"]').tap()
    page.locator('[data-screen="thanks"]').wait_for()
    page.screenshot(path=screenshot_path("phone-thanks.png"))
    responses = stored(live_server)
    assert len(responses) == 1 and responses[0].channel is ResponseChannel.SMS
    assert responses[0].comment == "Cán bộ hướng dẫn tận tình"

    other_tab.bring_to_front()
    rate_all(other_tab)  # the second tab still shows the form; its submit is refused
    other_tab.locator(".rf-skip").tap()
    other_tab.locator('[data-testid="confirm"]').tap()
    other_tab.locator('[data-state="used"]').wait_for()
    page.bring_to_front()
    page.reload()
    page.locator('[data-state="used"]').wait_for()
    assert "Hồ sơ này đã được đánh giá" in page.content()
    page.screenshot(path=screenshot_path("phone-used.png"))
    assert len(stored(live_server)) == 1


@pytest.mark.browser
def test_the_plain_form_works_without_javascript(live_server, browser):
    data = seed(live_server, channel="qr")
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(data["url"])
    for fieldset in page.locator("#rating-form fieldset").all():
        fieldset.locator("input[type=radio]").first.check()
    page.locator("button.send").click()
    page.locator('[data-state="thanks"]').wait_for()
    context.close()
    responses = stored(live_server)
    assert len(responses) == 1 and responses[0].channel is ResponseChannel.QR


@pytest.mark.browser
def test_a_printed_slip_qr_decodes_to_the_same_form(live_server, browser, phone):
    data = seed(live_server, channel="qr")
    clerk = browser.new_context(viewport={"width": 900, "height": 1200}, locale="vi-VN")
    page = clerk.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", data["user"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/sms/{data['unit']}/slip?dossier={data['dossier']}&size=a6")
    slip = page.locator(".slip")
    assert data["dossier"] in slip.inner_text()
    slip.screenshot(path=screenshot_path("slip-a6.png"))
    image = Image.open(io.BytesIO(page.locator(".slip .qr").screenshot()))
    decoded = [symbol.data.decode() for symbol in decode(image)]
    clerk.close()
    assert len(decoded) == 1
    with get_database(live_server.app).session() as session:
        qr_link = session.scalar(select(ShortLink).where(ShortLink.channel == "qr", ShortLink.used_at.is_(None)))
        assert decoded[0] == f"{live_server.url}/r/{qr_link.code}"
    citizen = phone.new_page()
    citizen.goto(decoded[0])
    citizen.locator(".rf--phone [data-screen='question']").wait_for()
    assert data["dossier"] in citizen.content()


def _pdf_pages(pdf: bytes, tmp_path: Path) -> tuple[int, tuple[float, float]]:
    """Page count and page size in millimetres, read with pdfinfo."""
    path = tmp_path / "slips.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    width, _x, height = fields["Page size"].split()[:3]
    return int(fields["Pages"]), (float(width) * 25.4 / 72, float(height) * 25.4 / 72)


@pytest.mark.browser
def test_a_day_of_slips_prints_one_slip_per_page_in_a6_and_80mm(live_server, browser, tmp_path):
    with get_database(live_server.app).session() as session:
        unit = create_unit(session)
        day = utcnow() - timedelta(days=1)
        for _ in range(3):
            create_dossier(session, unit, received_at=day - timedelta(days=2), returned_at=day)
        clerk = create_clerk(session, unit)
        unit_code, user = unit.code, clerk.username
    local_day = day.astimezone(live_server.app.extensions["sipas_settings"].tz).date().isoformat()
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    sizes = {}
    for size in ("a6", "80mm"):
        page.goto(f"{live_server.url}/console/sms/{unit_code}/slips/day?date={local_day}&size={size}")
        assert page.locator(".slip").count() == 3
        sizes[size] = _pdf_pages(page.pdf(prefer_css_page_size=True, print_background=True), tmp_path)
    context.close()
    assert sizes["a6"][0] == 3 and sizes["80mm"][0] == 3  # one slip per page
    assert sizes["a6"][1] == pytest.approx((105, 148), abs=1)  # A6
    assert sizes["80mm"][1][0] == pytest.approx(80, abs=1)  # the thermal roll's width


@pytest.mark.browser
def test_a_link_of_a_dossier_rated_at_the_kiosk_thanks_and_never_says_the_link_was_used(live_server, phone):
    data = seed(live_server)
    with get_database(live_server.app).session() as session:
        dossier = session.scalar(select(ShortLink).where(ShortLink.code == data["code"])).dossier
        create_response(session, live_server.app.extensions["sipas_catalogue"], dossier.unit, dossier=dossier,
                        channel=ResponseChannel.KIOSK)
    page = phone.new_page()
    page.goto(data["url"])
    message = page.locator('[data-state="rated"]')
    message.wait_for()
    text = message.inner_text()
    assert "Hồ sơ này đã được đánh giá" in text and "Xin cảm ơn" in text
    assert "đã được dùng" not in text
    page.screenshot(path=screenshot_path("phone-rated.png"))


@pytest.mark.browser
def test_question_one_offers_no_back_button_that_leads_nowhere(live_server, phone):
    data = seed(live_server)
    page = phone.new_page()
    page.goto(data["url"])
    page.locator('[data-testid="progress"]').filter(has_text="1/12").wait_for()
    assert page.locator(".rf-back").count() == 0
    page.locator(".rf-option--good").first.tap()
    page.locator('[data-testid="progress"]').filter(has_text="2/12").wait_for()
    page.locator(".rf-back").tap()  # from question 2 back leads somewhere: question 1, answer kept
    page.locator('[data-testid="progress"]').filter(has_text="1/12").wait_for()
    assert page.locator('.rf-option--good[aria-pressed="true"]').count() == 1


@pytest.mark.browser
def test_the_plain_form_keeps_long_titles_inside_their_box(live_server, browser):
    data = seed(live_server)
    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 640}}, java_script_enabled=False)
    page = context.new_page()
    page.goto(data["url"])
    boxes = page.evaluate("""() => [...document.querySelectorAll('#rating-form fieldset')].map(f => {
        const legend = f.querySelector('legend').getBoundingClientRect();
        const box = f.getBoundingClientRect();
        return [legend.height, legend.top - box.top - parseFloat(getComputedStyle(f).borderTopWidth)]; })""")
    page.screenshot(path=screenshot_path("phone-plain-form.png"))
    context.close()
    assert any(height > 30 for height, _ in boxes)  # some titles do wrap at 360 px
    assert all(gap >= 0 for _, gap in boxes), boxes  # the top border runs above the title, never through it
