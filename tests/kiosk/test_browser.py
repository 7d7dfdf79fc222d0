"""The kiosk in Debian's Chromium (touch on, network off): what a citizen and a clerk actually do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from sipas.models import ResponseChannel
from sipas.storage import get_database
from sipas.units import get_unit
from tests.factories import create_clerk, create_response, create_unit
from tests.kiosk.browser import Taps, answer_all, assert_accessible, login_console, open_kiosk, shot, type_on_keypad
from tests.kiosk.helpers import device, responses, seed

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_timeouts", "local_only")]


def test_whole_flow_by_keypad_in_14_taps(live_server, page: Page):
    setup = seed(live_server.app, code="000.00.20.H57-230301-0001")
    open_kiosk(page, live_server, setup, "?thanks=2")
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
    expect(page.locator(".rf-question")).to_have_text(  # the plain question, the legal wording one tap away
        "Ông/bà hài lòng thế nào về thái độ, sự hướng dẫn của cán bộ khi nhận và trả hồ sơ?")
    page.get_by_test_id("legal-text").locator("summary").tap()
    expect(page.get_by_test_id("legal-text").locator("p")).to_have_text("Thái độ, hướng dẫn, tiếp nhận và trả kết quả")
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
    login_console(console, live_server, username)
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


def test_clerk_arms_the_kiosk_from_the_console_and_the_citizen_only_rates(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4")
    with get_database(live_server.app).session() as session:
        username = create_clerk(session, get_unit(session, setup.unit_code)).username
    open_kiosk(page, live_server, setup, "?poll=1")
    expect(page.get_by_test_id("keypad")).to_be_visible()
    console = page.context.new_page()
    login_console(console, live_server, username)
    console.goto(f"{live_server.url}/console/kiosks")
    row = console.locator("tr[data-kiosk]")
    row.locator('input[name="dossier_code"]').fill(setup.dossiers[1])
    row.get_by_role("button", name="Mời đánh giá").click()
    expect(console.get_by_text(f"sẽ mời công dân đánh giá hồ sơ {setup.dossiers[1]}")).to_be_visible()
    page.bring_to_front()
    expect(page.get_by_test_id("confirm-panel")).to_contain_text(f"Đăng ký khai sinh (mã {setup.dossiers[1]})")
    assert device(live_server.app, setup.device_id).armed_dossier_id is None  # handed over once
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.locator(".rf-thanks")).to_be_visible()
    stored = responses(live_server.app)
    assert len(stored) == 1 and stored[0].dossier.code == setup.dossiers[1]


def test_whole_flow_at_1920x1080_with_not_applicable_answers(live_server, page: Page, catalogue):
    page.set_viewport_size({"width": 1920, "height": 1080})
    setup = seed(live_server.app)
    open_kiosk(page, live_server, setup, "?thanks=2")
    page.keyboard.type(setup.dossiers[0])
    page.keyboard.press("Enter")
    criteria = catalogue.current("hue12", datetime.now(UTC).date()).citizen_criteria
    taps = Taps(page)
    for number, criterion in enumerate(criteria, start=1):
        expect(page.get_by_test_id("progress")).to_have_text(f"{number}/12")
        assert page.locator(".rf-option--na").count() == (1 if criterion.allow_na else 0)
        taps(".rf-option--na" if criterion.allow_na else ".rf-option--good")
    taps('[data-testid="skip-comment"]')
    expect(page.locator(".rf-chip--na")).to_have_count(sum(c.allow_na for c in criteria))
    assert_accessible(page)
    taps('[data-testid="confirm"]')
    expect(page.locator(".rf-thanks")).to_be_visible()
    assert taps.count == 14
    stored = responses(live_server.app)
    assert len(stored) == 1
    answers = {a.criterion_code: (a.option_code, a.points) for a in stored[0].answers}
    assert answers == {c.code: (None, None) if c.allow_na else ("rat_hai_long", 2) for c in criteria}


def test_a_ward_without_anonymous_ratings_refuses_a_code_less_rating(live_server, page: Page):
    setup = seed(live_server.app, instrument="quay4", anonymous=True)
    open_kiosk(page, live_server, setup, "?thanks=30")
    page.get_by_test_id("anonymous").tap()
    with get_database(live_server.app).session() as session:
        get_unit(session, setup.unit_code).allow_anonymous = False  # the ward turns it off meanwhile
    answer_all(page, Taps(page), 4)
    page.get_by_test_id("skip-comment").tap()
    page.get_by_test_id("confirm").tap()
    expect(page.get_by_test_id("thanks-note")).to_have_text("Cần nhập mã hồ sơ cho kênh đánh giá này.")
    assert responses(live_server.app) == []
    rejected = page.evaluate(f"JSON.parse(localStorage.getItem('sipas-kiosk:{setup.unit_code}:rejected'))")
    assert [item["reason"] for item in rejected] == ["dossier_required"]  # kept aside, counted in the console
    page.reload()
    expect(page.get_by_test_id("keypad")).to_be_visible()
    expect(page.get_by_test_id("anonymous")).to_have_count(0)
    page.keyboard.press("Enter")  # no code: nothing starts
    expect(page.locator(".rf")).to_have_count(0)
    assert responses(live_server.app) == []
