"""The period picker in Chromium (issue 13): one kind at a time, Vietnamese only, days as ngày/tháng/năm,
no native control that would show English (mm/dd/yyyy, browser validation bubbles), the unit name whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sipas.catalogue import load_catalogue
from sipas.settings import DEFAULT_CONFIG_DIR
from sipas.storage import get_database
from tests.aggregator.fixtures import build_quarter
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_unit

NATIVE = ("() => [...document.querySelectorAll('input')]"
          ".filter(i => ['date', 'month', 'number', 'week'].includes(i.type)).length")
VISIBLE_KINDS = ("() => [...document.querySelectorAll('[data-kind]')].filter(l => l.offsetParent !== null)"
                 ".map(l => l.dataset.kind)")
# Whether the selected option's text fits its select (the arrow takes about 28 px).
UNIT_FITS = """() => { const s = document.querySelector('select[name=unit]'); const c = document.createElement('canvas')
  .getContext('2d'); c.font = getComputedStyle(s).font;
  return c.measureText(s.selectedOptions[0].textContent).width <= s.clientWidth - 28; }"""


def login(page, live_server, username):  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.browser
def test_the_dashboard_and_notice_page_share_one_vietnamese_period_picker(live_server, page, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The lists offer the periods before today (12 quarters, 24 months): the pages are read on a day of April 2026,
    # whatever the day the suite runs (from February 2028 on, February 2026 is no longer among the months).
    for module in ("aggregator.views", "aggregator.notices.views"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: datetime(2026, 4, 10, 2, 0, tzinfo=UTC))
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Thử Trình Duyệt Có Tên Rất Dài")
        build_quarter(session, load_catalogue(DEFAULT_CONFIG_DIR), unit)
        username = create_clerk(session, unit).username
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server, username)
    page.goto(f"{live_server.url}/console/bao-cao/?kind=quarter&quarter=2026Q1")
    assert page.evaluate(VISIBLE_KINDS) == ["quarter"]
    assert page.locator("select[name=quarter]").evaluate("(s) => s.selectedOptions[0].textContent") == "Quý I năm 2026"
    assert page.evaluate(NATIVE) == 0 and page.evaluate(UNIT_FITS)
    page.locator("select[name=kind]").select_option("range")
    assert page.evaluate(VISIBLE_KINDS) == ["range", "range"]
    page.fill("input[name=from]", "15/01/2026")
    page.fill("input[name=to]", "10/3/2026")
    page.screenshot(path=screenshot_path("report-period-picker.png"),
                    clip={"x": 0, "y": 0, "width": 1440, "height": 450})
    page.get_by_role("button", name="Xem báo cáo").click()
    page.wait_for_url("**kind=range**")
    assert "từ ngày 15/01/2026 đến ngày 10/3/2026" in page.locator("main, body").first.inner_text()
    assert "quarter=" not in page.url  # the hidden quarter was not sent: no "chỉ chọn một cách" refusal
    assert page.locator("input[name=from]").input_value() == "15/01/2026"

    page.goto(f"{live_server.url}/console/thong-bao/?unit={unit.code}&quarter=2026Q1")
    assert page.evaluate(VISIBLE_KINDS) == ["quarter"] and page.evaluate(NATIVE) == 0
    page.locator("select[name=kind]").select_option("month")
    page.locator("select[name=month]").select_option("2026-02")
    page.get_by_role("button", name="Xem", exact=True).click()
    page.wait_for_url("**kind=month**")
    assert "tháng 2 năm 2026" in page.content()


@pytest.mark.browser
def test_the_import_page_picks_a_file_in_vietnamese(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        username = create_clerk(session, unit).username
    login(page, live_server, username)
    page.goto(f"{live_server.url}/console/dossiers/import")
    native = page.locator("input[type=file]")
    assert native.evaluate("(i) => i.getBoundingClientRect().width") <= 1  # "Choose File" never shows
    expect_text = page.locator("[data-file-picker]")
    assert "Chọn tệp…" in expect_text.inner_text() and "Chưa chọn tệp nào" in expect_text.inner_text()
    sample = tmp_path / "ho-so-thang-11.csv"
    sample.write_text("Mã hồ sơ\n", encoding="utf-8")
    native.set_input_files(str(sample))
    assert page.locator("[data-file-name]").inner_text() == "ho-so-thang-11.csv"
    page.locator("input[type=file]").set_input_files([])
    page.get_by_role("button", name="Nhập dữ liệu").click()  # no file: the server says so, in Vietnamese
    assert page.locator(".flash-error").inner_text() == "Hãy chọn tệp CSV hoặc Excel (.xlsx) cần nhập."
