"""In Debian's Chromium: from the console home, a clerk gets the notice as PDF and DOCX in three clicks."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from aggregator.notices.views import default_period
from sipas.catalogue import Catalogue
from sipas.clock import local_date
from sipas.storage import get_database
from tests.factories import PASSWORD, TZ, create_clerk, create_dossier, create_response, create_unit, local

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed(live_server, catalogue: Catalogue) -> str:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    period = default_period(local_date(now, TZ))
    with get_database(live_server.app).session() as session:
        unit = create_unit(session, name="Phường Phú Hội", signatory_name="Nguyễn Văn An")
        for day in range(3):
            start = period.start + timedelta(days=day)
            dossier = create_dossier(session, unit, received_at=local(start.year, start.month, start.day),
                                     returned_at=local(start.year, start.month, start.day, 11), now=now)
            create_response(session, catalogue, unit, dossier=dossier,
                            submitted_at=local(start.year, start.month, start.day, 16), now=now)
        clerk = create_clerk(session, unit)
        return clerk.username


def test_three_clicks_to_pdf_and_docx(page: Page, live_server, catalogue: Catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    username = seed(live_server, catalogue)
    page.set_default_timeout(60000)
    page.goto(f"{live_server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")

    page.locator("nav.mainnav").get_by_role("link", name="Thông báo kết quả").click()  # click 1
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thông báo kết quả đánh giá – Phường Phú Hội")
    expect(page.locator(".notice .draft")).to_have_text("DỰ THẢO")
    expect(page.locator(".notice .annex figure.chart svg")).to_have_count(1)  # the annex chart in the preview
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Tải PDF").click()  # click 2
    pdf = tmp_path / "thong-bao.pdf"
    pdf_download.value.save_as(pdf)
    with page.expect_download() as docx_download:
        page.get_by_role("link", name="Tải DOCX").click()  # click 3
    docx = tmp_path / "thong-bao.docx"
    docx_download.value.save_as(docx)

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "THÔNG BÁO" in text and "Ủy ban nhân dân phường Phú Hội" in text and "3 phiếu" in text
    assert pdf_download.value.suggested_filename.endswith(".pdf")
    document = Document(io.BytesIO(docx.read_bytes()))
    assert document.tables[0].cell(0, 0).paragraphs[1].text == "PHƯỜNG PHÚ HỘI"
