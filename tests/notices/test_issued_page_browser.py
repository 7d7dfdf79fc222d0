"""Issue 13 item 12 in Chromium: once a quarter's notice is issued, the notice page shows that notice.

A clerk reopening the period sees the issued notice (numbered, "(đã ban hành)", the issuer by full name,
the quarter in Roman numerals), never a DỰ THẢO preview with "Số: /TB-UBND". With SIPAS_UPDATE_SCREENSHOTS=1
the screenshot goes to docs/screenshots/notice-issued.png, else to a scratch folder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect

from aggregator.notices import service
from sipas.accounts import create_user
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Role
from sipas.settings import Settings
from sipas.storage import get_database
from tests.aggregator.fixtures import build_quarter
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_unit

pytestmark = [pytest.mark.browser]
NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)


def test_an_issued_quarter_shows_its_notice_not_a_draft(page: Page, live_server,  # type: ignore[no-untyped-def]
                                                        catalogue: Catalogue, settings: Settings) -> None:
    with get_database(live_server.app).session() as session:
        ward = create_unit(session, name="Phường Phú Hội", signatory_name="Nguyễn Văn An")
        build_quarter(session, catalogue, ward)
        clerk = create_user(session, username="canbo.binh", password=PASSWORD, role=Role.CLERK, units=[ward],
                            full_name="Trần Thị Bình", actor="test")
        report = service.compute_report(session, catalogue, ward, Period.quarter(2026, 1), settings=settings, now=NOW)
        service.issue_notice(session, ward, report, service.IssueRequest(Period.quarter(2026, 1), 3, date(2026, 4, 6)),
                             settings=settings, actor=f"user:{clerk.username}", now=NOW)
        unit_code = ward.code
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", "canbo.binh")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/thong-bao/?unit={unit_code}&kind=quarter&quarter=2026Q1")
    body = page.locator("main")
    expect(body).to_contain_text("(đã ban hành)")
    expect(body).to_contain_text("Số: 03/TB-UBND")
    expect(body).to_contain_text("Trần Thị Bình")
    expect(body).to_contain_text("quý I năm 2026")
    expect(body).not_to_contain_text("Số: /TB-UBND")
    expect(body).not_to_contain_text("canbo.binh")
    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.screenshot(path=screenshot_path("notice-issued.png"))
