"""In Debian's Chromium: a clerk goes from the home to-do list to a case and marks it answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from sipas.catalogue import Catalogue
from sipas.storage import get_database
from tests.browser_support import screenshot_path
from tests.factories import PASSWORD, answers_for, create_clerk, create_dossier, create_response, create_unit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed(live_server, catalogue: Catalogue) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội")
        dossier = create_dossier(session, unit, received_at=now - timedelta(days=30),
                                 returned_at=now - timedelta(days=25), now=now)
        response = create_response(session, catalogue, unit, dossier=dossier, now=now,
                                   submitted_at=now - timedelta(days=20), comment="Cán bộ hẹn lại nhiều lần",
                                   answers=answers_for(catalogue, on=now) | {"tc04": "khong_hai_long"})
        clerk = create_clerk(session, unit)
        clerk.full_name = "Trần Thị Lan"
        return clerk.username, response.id


def test_case_list_to_case_to_answered(page: Page, live_server, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    username, response_id = seed(live_server, catalogue)
    page.set_default_timeout(60000)
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").first.click()
    todo = page.locator("section.todo")
    expect(todo).to_contain_text("Phản ánh quá hạn chưa trả lời")
    todo.get_by_role("link", name="Phản ánh quá hạn").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phản ánh cần xử lý")
    page.screenshot(path=screenshot_path("cases-list.png"), full_page=True)
    page.get_by_role("link", name=f"Phiếu #{response_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Phản ánh: phiếu #{response_id}")
    page.get_by_role("button", name="Giao xử lý").click()
    expect(page.locator("body")).to_contain_text("Trần Thị Lan giao xử lý cho Trần Thị Lan.")
    page.fill("textarea[name=explanation]", "Đã nhắc nhở cán bộ; hồ sơ được hướng dẫn một lần.")
    page.fill("textarea[name=contact_made]", "Gọi điện cho người dân")
    page.get_by_role("button", name="Ghi nhận", exact=True).click()
    page.get_by_role("button", name="Chuyển sang “Đã trả lời”").click()
    expect(page.locator("body")).to_contain_text("Trần Thị Lan đã trả lời người dân (quá hạn")
    expect(page.locator("section.card").first).to_contain_text("Đã trả lời")
    page.screenshot(path=screenshot_path("cases-case.png"), full_page=True)
