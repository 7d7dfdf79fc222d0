"""Issue 11 in Chromium: the ranking with coverage, and a citizen checking a notice copy on its own page.

With SIPAS_UPDATE_SCREENSHOTS=1 the screenshots go to docs/screenshots/ (report-ranking.png,
notice-verify.png), else to a scratch folder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from aggregator.notices import service
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Role, UnitKind
from sipas.settings import Settings
from sipas.storage import get_database
from tests.aggregator.fixtures import build_quarter
from tests.aggregator.test_honest_ranking import quay4_ward
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, create_clerk, create_unit

pytestmark = [pytest.mark.browser]
NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)


def test_ranking_and_notice_check_by_upload(page: Page, live_server, catalogue: Catalogue,  # type: ignore[no-untyped-def]
                                            settings: Settings, tmp_path: Path) -> None:
    with get_database(live_server.app).session() as session:
        city = create_unit(session, name="Thành phố Huế (mẫu)", kind=UnitKind.PROVINCE)
        ward = create_unit(session, name="Phường Phú Hội", parent=city, signatory_name="Nguyễn Văn An")
        build_quarter(session, catalogue, ward)
        kiosk = quay4_ward(session, catalogue, city)
        leader = create_clerk(session, city, role=Role.LEADER).username
        report = service.compute_report(session, catalogue, ward, Period.quarter(2026, 1), settings=settings, now=NOW)
        notice = service.issue_notice(session, ward, report,
                                      service.IssueRequest(Period.quarter(2026, 1), 3, date(2026, 4, 6)),
                                      settings=settings, actor="test", now=NOW)
        codes, pdf = (ward.code, kiosk.name), notice.pdf
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", leader)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/bao-cao/?kind=quarter&quarter=2026Q1")
    ranking = page.locator("section.card", has_text="Xếp hạng các đơn vị")
    expect(ranking.locator("tr", has_text=codes[1])).to_contain_text("4/9 chỉ số")
    expect(ranking.locator("tr", has_text=codes[1])).to_contain_text("chưa đủ dữ liệu xếp loại")
    assert ranking.screenshot(path=screenshot_path("report-ranking.png"))
    page.goto(f"{live_server.url}/cong-khai/{codes[0]}/2026/3")
    expect(page.locator("#sha256-pdf")).to_have_text(notice.pdf_sha256)
    copy = tmp_path / "ban-sao.pdf"
    copy.write_bytes(pdf)
    page.set_input_files("input[name=file]", str(copy))
    page.click("button[type=submit]")
    expect(page.locator("#verify-result")).to_have_text(
        "Trùng khớp: tệp giống hệt bản PDF đã ban hành của thông báo này.")
    assert page.screenshot(path=screenshot_path("notice-verify.png"), full_page=True)
