"""Console pages (preview, drafts, wording, issuing) and the public page, on both backends."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import pytest
from docx import Document
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices import pdf_jobs, service
from aggregator.notices.docx_render import render_docx
from sipas.catalogue import Catalogue
from sipas.context import get_settings
from sipas.models import Role, Unit, User
from tests.aggregator.fixtures import build_quarter
from tests.factories import create_clerk, create_unit, login
from tests.notices.pdf_progress import follow_pdf_progress, issue_through_progress
from tests.notices.test_format import view_of

Q1 = {"quarter": "2026Q1"}


def csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def ward_with_clerk(session: Session, catalogue: Catalogue, client: FlaskClient, role: Role = Role.CLERK):  # type: ignore[no-untyped-def]
    unit = create_unit(session, name="Phường Bến Nghé", signatory_name="Phạm Thị Dung")
    build_quarter(session, catalogue, unit)
    clerk = create_clerk(session, unit, role=role)
    session.commit()
    login(client, clerk)
    return unit


def test_three_clicks_from_home_to_pdf_and_docx(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    unit = ward_with_clerk(session, catalogue, client)
    home = client.get("/console/").get_data(as_text=True)
    assert 'href="/console/thong-bao/"' in home and "Thông báo kết quả" in home
    page = client.get("/console/thong-bao/")  # click 1: the nav entry lands on the preview
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tải PDF" in html and "Tải DOCX" in html and "DỰ THẢO" in html
    docx = client.get("/console/thong-bao/du-thao.docx", query_string={"unit": unit.code, **Q1})  # click 3
    assert docx.status_code == 200
    assert docx.headers["Content-Disposition"].startswith("attachment;")
    document = Document(io.BytesIO(docx.data))
    assert document.sections[0].first_page_header.paragraphs[0].text == "DỰ THẢO"
    body = "\n".join(p.text for p in document.paragraphs)
    assert "quý I năm 2026" in body and "Ủy ban nhân dân phường Bến Nghé" in body
    progress = client.get("/console/thong-bao/du-thao.pdf", query_string={"unit": unit.code, **Q1})  # click 2
    assert progress.status_code == 200 and "Đang tạo bản PDF" in progress.get_data(as_text=True)
    pdf = follow_pdf_progress(client, progress.get_data(as_text=True))  # the page's script does this
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    again = client.get("/console/thong-bao/du-thao.pdf", query_string={"unit": unit.code, **Q1})
    assert again.mimetype == "application/pdf" and again.data == pdf.data  # the same draft: from the cache


def test_preview_of_a_quarter_and_404_for_another_unit(client: FlaskClient, session: Session,
                                                       catalogue: Catalogue) -> None:
    unit = ward_with_clerk(session, catalogue, client)
    other = create_unit(session)
    session.commit()
    page = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    assert "quý I năm 2026" in page and "Số:      /TB-UBND" in page
    assert 'name="number" inputmode="numeric" autocomplete="off" value="1"' in page  # the suggested number
    assert "Nơi nhận:" in page and "Phạm Thị Dung" in page
    assert client.get("/console/thong-bao/", query_string={"unit": other.code}).status_code == 404
    assert client.get("/console/thong-bao/du-thao.docx", query_string={"unit": other.code}).status_code == 404
    assert client.get("/console/thong-bao/du-thao.exe", query_string={"unit": unit.code}).status_code == 404
    cut = client.get("/console/thong-bao/", query_string={"unit": unit.code, "quarter": "", "from": "2025-12-15",
                                                           "to": "2026-03-06"}).get_data(as_text=True)
    assert "quả đánh giá sự hài lòng" in cut and "từ ngày 15/12/2025 đến ngày 06/3/2026" in cut
    assert "Kỳ đang xem: từ ngày 15/12/2025 đến ngày 06/3/2026. Bản dự thảo" in cut  # its dates once, not twice
    assert "06/3/2026 (từ ngày" not in cut
    switched = client.get("/console/thong-bao/", query_string={"unit": unit.code, "quarter": "2025Q4",
                                                                "from": "2025-12-15", "to": "2026-03-06"})
    assert "quý IV năm 2025" in switched.get_data(as_text=True)  # the chosen quarter wins over old dates
    # the period picker: its kind decides, whatever the hidden controls still hold; days as ngày/tháng/năm
    picked = client.get("/console/thong-bao/", query_string={
        "unit": unit.code, "kind": "range", "quarter": "2025Q4", "month": "2026-02", "from": "15/12/2025",
        "to": "6/3/2026"}).get_data(as_text=True)
    assert "từ ngày 15/12/2025 đến ngày 06/3/2026" in picked and 'name="from" inputmode="numeric"' in picked
    assert 'type="date"' not in picked and 'type="number"' not in picked and " required" not in picked
    month = client.get("/console/thong-bao/", query_string={"unit": unit.code, "kind": "month", "month": "2026-02",
                                                            "from": "99/99/2026"}).get_data(as_text=True)
    assert "tháng 2 năm 2026" in month and '<option value="2026-02" selected>Tháng 2 năm 2026</option>' in month
    html = client.get("/console/thong-bao/du-thao.html", query_string={"unit": unit.code, **Q1})
    assert html.status_code == 200 and "<svg" in html.get_data(as_text=True)


def test_wording_is_edited_validated_and_reset(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    unit = ward_with_clerk(session, catalogue, client)
    page = client.get("/console/thong-bao/noi-dung", query_string={"unit": unit.code}).get_data(as_text=True)
    token = csrf(page)
    form = {"csrf_token": token, "unit": unit.code, "summary": "Kết quả đánh giá {period_words}",
            "p_opening": "Mở đầu {committee}.", "p_dossiers": "Hồ sơ: {received}.", "p_ballots": "Phiếu: {responses}.",
            "p_criteria": "Theo tiêu chí:", "p_overall": "Chung: {overall_satisfaction}.", "p_closing": "Kết\x01 thúc.",
            "recipients": "- Sở Nội vụ;\nUBND {parent_name}", "archive": "Lưu: VT, BPMC",
            "authority": "TM. ỦY BAN NHÂN DÂN", "signatory_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
            "signatory_name": "Lê Văn Cường", "action": "save"}
    bad = client.post("/console/thong-bao/noi-dung", data=form | {"p_closing": "Kết {khong_co}."})
    assert bad.status_code == 400 and "Không có trường {khong_co}" in bad.get_data(as_text=True)
    assert client.post("/console/thong-bao/noi-dung", data=form).status_code == 302
    session.expire_all()
    saved = session.get(Unit, unit.id).options["notice"]  # type: ignore[union-attr]
    session.rollback()  # end the read so the app can write (SQLite)
    assert saved["recipients"] == ["Sở Nội vụ", "UBND {parent_name}"]
    preview = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    assert "Mở đầu Ủy ban nhân dân phường Bến Nghé." in preview and "- Sở Nội vụ;" in preview
    assert "KT. CHỦ TỊCH" in preview and "PHÓ CHỦ TỊCH" in preview and "- Lưu: VT, BPMC." in preview
    assert "Kết thúc." in preview  # control characters dropped: the DOCX (XML) still builds
    docx = client.get("/console/thong-bao/du-thao.docx", query_string={"unit": unit.code, **Q1})
    assert docx.status_code == 200 and "Kết thúc." in [p.text for p in Document(io.BytesIO(docx.data)).paragraphs]
    assert client.post("/console/thong-bao/noi-dung", data=form | {"action": "reset"}).status_code == 302
    after = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    assert "- Niêm yết tại trụ sở;" in after and "Sở Nội vụ" not in after and "Phạm Thị Dung" in after


def test_issue_from_the_console_then_the_public_page(client: FlaskClient, session: Session, catalogue: Catalogue,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The page suggests the next number of the year its suggested issue date falls in (today, or the period's
    # end): the clerk issues Q1 2026's notice in April 2026, whatever the day the suite runs (from 2027 on, the
    # suggestion after number 3 of 2026 is number 1 of the new year).
    monkeypatch.setattr("aggregator.notices.views.utcnow", lambda: datetime(2026, 4, 10, 2, 0, tzinfo=UTC))
    unit = ward_with_clerk(session, catalogue, client)
    page = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    form = {"csrf_token": csrf(page), "unit": unit.code, "from": "2026-01-01", "to": "2026-03-31",
            "number": "3", "issue_date": "2026-04-06"}
    first = client.post("/console/thong-bao/ban-hanh", data=form)  # converted in the background first
    assert first.status_code == 200 and "ban hành ngay khi bản PDF tạo xong" in first.get_data(as_text=True)
    assert session.scalars(select(Notice)).first() is None
    session.rollback()
    response = issue_through_progress(client, form)
    assert response.status_code == 302
    listed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã ban hành Thông báo số 03/TB-UBND" in listed
    assert 'name="number" inputmode="numeric" autocomplete="off" value="4"' in listed
    again = client.get(client.post("/console/thong-bao/ban-hanh", data=form).headers["Location"])
    assert "Kỳ báo cáo quý I năm 2026 đã có Thông báo số 03/TB-UBND" in again.get_data(as_text=True)
    assert "Kỳ này đã có Thông báo số 03/TB-UBND" in again.get_data(as_text=True)
    # the form offers the period's current notice to replace, and nothing else
    corrects = again.get_data(as_text=True).split('<select name="corrects">', 1)[1].split("</select>", 1)[0]
    assert corrects.count("<option") == 1 and "Số 03/TB-UBND ngày 06/4/2026" in corrects and " selected" in corrects
    replaced = corrects.split('value="', 1)[1].split('"', 1)[0]
    taken = client.get(issue_through_progress(client, {**form, "corrects": replaced}).headers["Location"])
    assert "đã được dùng" in taken.get_data(as_text=True)  # a correction with the number of the notice it replaces
    notice = session.scalars(select(Notice)).one()
    session.rollback()
    # the period now shows its issued notice, numbered, not a draft with "Số: /TB-UBND"; the issuer by name
    session.execute(update(User).where(User.username == notice.issued_by.removeprefix("user:"))
                    .values(full_name="Trần Thị Bình"))
    session.commit()
    shown = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    preview = shown.split("(đã ban hành)</h2>", 1)[1]
    assert "Số: 03/TB-UBND" in preview and "Số: /TB-UBND" not in shown and "DỰ THẢO" not in preview
    assert f"da-ban-hanh/{notice.id}.pdf" in shown.split("Ban hành</h2>")[0]  # "Tải PDF" gives the issued one
    assert "<td>Trần Thị Bình</td>" in shown
    issued_docx = client.get(f"/console/thong-bao/da-ban-hanh/{notice.id}.docx")
    assert issued_docx.data == notice.docx

    client.post("/console/logout", data={"csrf_token": csrf(listed)})
    public = client.get(f"/cong-khai/{unit.code}")
    assert public.status_code == 200
    html = public.get_data(as_text=True)
    assert "Thông báo số 03/TB-UBND ngày 06/4/2026" in html and "quý I năm 2026" in html
    assert "Cán bộ nhiệt tình" not in html and "Phải chờ lâu" not in html  # no free text in public
    pdf = client.get(f"/cong-khai/{unit.code}/2026/3.pdf")
    assert pdf.status_code == 200 and pdf.data == notice.pdf
    assert client.get(f"/cong-khai/{unit.code}/2026/3.docx").data == notice.docx
    issued_html = client.get(f"/cong-khai/{unit.code}/2026/3.html")
    assert "Số: 03/TB-UBND" in issued_html.get_data(as_text=True)
    assert issued_html.headers["Content-Type"] == "text/html; charset=utf-8"  # the charset once, not twice
    assert client.get(f"/cong-khai/{unit.code}/2026/4.pdf").status_code == 404
    assert client.get("/cong-khai/KHONG-CO").status_code == 404
    assert client.get(f"/console/thong-bao/da-ban-hanh/{notice.id}.docx").status_code == 302  # needs login


def test_a_quarter_not_yet_over_cannot_be_issued(client: FlaskClient, session: Session, catalogue: Catalogue,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/notice.md: while the period is not over the notice cannot be issued yet. The page said so, but the
    issue form went through: on 15/3 quarter I was issued with its figures of half a month short."""
    monkeypatch.setattr("aggregator.notices.views.utcnow", lambda: datetime(2026, 3, 15, 2, 0, tzinfo=UTC))
    unit = ward_with_clerk(session, catalogue, client)
    page = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    assert "Kỳ báo cáo chưa kết thúc" in page
    form = {"csrf_token": csrf(page), "unit": unit.code, "from": "2026-01-01", "to": "2026-03-31",
            "number": "1", "issue_date": "31/03/2026"}  # the suggested issue date: the period's last day
    refused = issue_through_progress(client, form)
    assert refused.status_code == 302
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Kỳ báo cáo chưa kết thúc: chỉ ban hành được từ ngày cuối kỳ (31/3/2026)." in shown
    session.rollback()
    assert session.scalars(select(Notice)).all() == [], "a notice was issued for a quarter not yet over"


def test_an_issue_date_after_today_is_refused(client: FlaskClient, session: Session, catalogue: Catalogue,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An issue date after today was accepted: a typo of the year (05/01/2027 for 05/4/2026) issued notice
    01/TB-UBND of 2027 in April 2026."""
    monkeypatch.setattr("aggregator.notices.views.utcnow", lambda: datetime(2026, 4, 10, 2, 0, tzinfo=UTC))
    unit = ward_with_clerk(session, catalogue, client)
    page = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    form = {"csrf_token": csrf(page), "unit": unit.code, "from": "2026-01-01", "to": "2026-03-31",
            "number": "1", "issue_date": "05/01/2027"}
    refused = issue_through_progress(client, form)
    assert refused.status_code == 302
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Ngày ban hành 05/01/2027 là sau hôm nay (10/4/2026)" in shown
    session.rollback()
    issued = session.scalars(select(Notice)).all()
    assert issued == [], f"issued on 10/4/2026 a notice dated {issued[0].issue_date} of {issued[0].year}"


def test_a_leader_previews_but_cannot_issue(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    unit = ward_with_clerk(session, catalogue, client, role=Role.LEADER)
    page = client.get("/console/thong-bao/", query_string={"unit": unit.code, **Q1}).get_data(as_text=True)
    assert "Tải PDF" in page and "Ban hành thông báo" not in page
    response = client.post("/console/thong-bao/ban-hanh", data={"csrf_token": csrf(page), "unit": unit.code,
                                                                  "number": "1", "issue_date": "2026-04-06"})
    assert response.status_code == 403


def test_a_job_left_by_a_restarted_worker_is_taken_up_when_its_page_polls(client: FlaskClient, session: Session,
                                                                          catalogue: Catalogue) -> None:
    ward_with_clerk(session, catalogue, client)
    with client.application.app_context():
        settings = get_settings()
    folder = service.pdf_dir(settings)
    key = pdf_jobs.submit(render_docx(view_of()), folder, settings.env["SIPAS_SOFFICE"], start_worker=False)
    deadline = time.monotonic() + 60
    while (state := client.get(f"/console/thong-bao/pdf/{key}.json").get_json())["state"] != "ready":
        assert state["state"] == "queued" and time.monotonic() < deadline, state
        time.sleep(0.05)
    pdf = client.get(f"/console/thong-bao/pdf/{key}.pdf?name=du-thao.pdf")
    assert pdf.data.startswith(b"%PDF") and 'filename="du-thao.pdf"' in pdf.headers["Content-Disposition"]
    assert client.get("/console/thong-bao/pdf/khong-co.json").get_json()["error"] == "pdf_job_not_found"
    assert client.get(f"/console/thong-bao/pdf/{'0' * 64}.pdf").status_code == 404
