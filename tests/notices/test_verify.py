"""Issue 11 §5: a notice anyone can verify (own public page with SHA-256, check by upload, `sipas notice verify`)."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices import fingerprint, service
from aggregator.notices.hierarchy import reporting_parent
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import Unit, UnitKind
from sipas.settings import Settings
from tests.aggregator.fixtures import build_quarter
from tests.factories import create_clerk, create_unit, login

NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)


def issue(session: Session, catalogue: Catalogue, settings: Settings, unit: Unit, number: int = 3,
          corrects: int | None = None) -> Notice:
    report = service.compute_report(session, catalogue, unit, Period.quarter(2026, 1), settings=settings, now=NOW)
    notice = service.issue_notice(session, unit, report,
                                  service.IssueRequest(Period.quarter(2026, 1), number, date(2026, 4, 6), corrects),
                                  settings=settings, actor="test", now=NOW)
    session.commit()
    return notice


@pytest.fixture
def issued(session: Session, catalogue: Catalogue, settings: Settings) -> Notice:
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    return issue(session, catalogue, settings, unit)


def test_issued_notice_carries_its_fingerprints_and_its_own_address(issued: Notice) -> None:
    assert issued.docx_sha256 == hashlib.sha256(issued.docx).hexdigest()
    assert issued.pdf_sha256 == hashlib.sha256(issued.pdf).hexdigest()
    own = f"https://hailong.example.vn/cong-khai/{issued.unit.code}/2026/3"
    text = "\n".join(p.text for p in Document(io.BytesIO(issued.docx)).paragraphs)
    tables = "\n".join(c.text for t in Document(io.BytesIO(issued.docx)).tables for r in t.rows for c in r.cells)
    assert own in text + tables  # the printed address (the QR encodes view.public_url, the same string)
    assert issued.content["public_url"] == own


def test_public_page_shows_digests_offers_files_and_checks_uploads(client: FlaskClient, issued: Notice,
                                                                   session: Session, catalogue: Catalogue,
                                                                   settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    code = issued.unit.code
    page = client.get(f"/cong-khai/{code}/2026/3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and issued.pdf_sha256 in html and issued.docx_sha256 in html
    assert f"/cong-khai/{code}/2026/3.pdf" in html and f"/cong-khai/{code}/2026/3.docx" in html
    assert f'href="/cong-khai/{code}/2026/3"' in client.get(f"/cong-khai/{code}").get_data(as_text=True)
    assert client.get(f"/cong-khai/{code}/2026/4").status_code == 404
    url = f"/cong-khai/{code}/2026/3/kiem-tra"

    def upload(data: bytes, **extra: str):  # type: ignore[no-untyped-def]
        return client.post(url, data={"file": (io.BytesIO(data), "tb.pdf"), **extra},
                           content_type="multipart/form-data")

    same = upload(issued.pdf)
    assert same.status_code == 200 and "Trùng khớp: tệp giống hệt bản PDF đã ban hành" in same.get_data(as_text=True)
    assert "bản DOCX" in upload(issued.docx).get_data(as_text=True)
    changed = upload(issued.pdf + b" ").get_data(as_text=True)
    assert "Không trùng khớp" in changed and hashlib.sha256(issued.pdf + b" ").hexdigest() in changed
    other = issue(session, catalogue, settings, issued.unit, number=4, corrects=issued.id)  # the period's second
    assert "Tệp không phải thông báo này mà là Thông báo số 04/TB-UBND" in upload(other.pdf).get_data(as_text=True)
    assert client.post(url, data={}, content_type="multipart/form-data").status_code == 400  # no file chosen

    monkeypatch.setattr(fingerprint, "MAX_VERIFY_BYTES", 4096)  # a small bound keeps the upload in memory
    too_big = upload(b"x" * 4097)
    assert too_big.status_code == 413 and "Tệp quá lớn" in too_big.get_data(as_text=True)
    assert upload(b"x" * 4096).status_code == 200  # at the bound: read and compared
    assert upload(b"x" * 80_000).status_code == 413  # the declared length alone refuses it


def test_cli_verify_names_the_notice_or_exits_one(run_cli, issued: Notice, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "ban-sao.pdf"
    copy.write_bytes(issued.pdf)
    ok = run_cli("notice", "verify", str(copy))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("Trùng khớp: Thông báo số 03/TB-UBND ngày 06/4/2026 của Phường Bến Nghé (bản PDF)")
    assert issued.pdf_sha256 in ok.stdout
    docx = tmp_path / "ban-sao.docx"
    docx.write_bytes(issued.docx)
    assert "(bản DOCX)" in run_cli("notice", "verify", str(docx)).stdout
    copy.write_bytes(issued.pdf[:-1])
    bad = run_cli("notice", "verify", str(copy))
    assert bad.exit_code == 1 and "Không trùng khớp" in bad.stderr
    empty = tmp_path / "rong.pdf"
    empty.write_bytes(b"")
    assert run_cli("notice", "verify", str(empty)).exit_code == 1
    assert run_cli("notice", "verify", str(tmp_path / "khong-co.pdf")).exit_code == 2  # click: no such file
    usage = run_cli("notice", "--quarter", "2026Q1")
    assert usage.exit_code == 2 and "Cần --unit và -o/--output" in usage.output


def test_two_tier_government_since_july_2025() -> None:
    province = Unit(id=1, code="TINH", name="Thành phố Huế", kind=UnitKind.PROVINCE)
    district = Unit(id=2, code="QUAN", name="Quận Thuận Hóa", kind=UnitKind.DISTRICT, parent_id=1)
    ward = Unit(id=3, code="PHUONG", name="Phường Phú Hội", kind=UnitKind.WARD, parent_id=2)
    units = {u.id: u for u in (province, district, ward)}

    def parent_of(unit: Unit) -> Unit | None:
        return units.get(unit.parent_id) if unit.parent_id else None

    assert reporting_parent(ward, date(2025, 6, 30), parent_of) is district  # the district existed then
    assert reporting_parent(ward, date(2025, 9, 30), parent_of) is province  # no district since 01/7/2025
    district.parent_id = None
    assert reporting_parent(ward, date(2026, 3, 31), parent_of) is None  # nothing above it: no such recipient
    direct = Unit(id=4, code="XA", name="Xã A", kind=UnitKind.COMMUNE, parent_id=1)
    assert reporting_parent(direct, date(2026, 3, 31), parent_of) is province


def test_notice_recipients_follow_the_local_government_of_the_period(session: Session, catalogue: Catalogue,
                                                                      settings: Settings) -> None:
    province = create_unit(session, name="Thành phố Huế", kind=UnitKind.PROVINCE)
    district = create_unit(session, name="Quận Thuận Hóa", kind=UnitKind.DISTRICT, parent=province)
    ward = create_unit(session, name="Phường Phú Hội", parent=district)
    session.commit()

    def recipients(period: Period) -> tuple[str, ...]:
        report = service.compute_report(session, catalogue, ward, period, settings=settings, now=NOW)
        return service.notice_view(session, ward, report, settings=settings, number=None,
                                   issue_date=period.end).recipients

    assert recipients(Period.quarter(2025, 1))[0] == "- UBND quận Thuận Hóa (để báo cáo);"
    assert recipients(Period.quarter(2026, 1))[0] == "- UBND thành phố Huế (để báo cáo);"


def test_the_demo_is_two_tier(session: Session, catalogue: Catalogue, settings: Settings) -> None:
    from sipas.demo import create_demo

    create_demo(session, catalogue, settings, secret="demo-secret", now=NOW)
    session.commit()
    ward = session.scalars(select(Unit).where(Unit.code == "PHUONG-PHUHOI")).one()
    parent = session.get(Unit, ward.parent_id)
    assert parent is not None and parent.kind is UnitKind.PROVINCE and parent.parent_id is None
    assert not session.scalars(select(Unit).where(Unit.kind == UnitKind.DISTRICT)).all()
    report = service.compute_report(session, catalogue, ward, Period.quarter(2026, 1), settings=settings, now=NOW)
    view = service.notice_view(session, ward, report, settings=settings, number=None, issue_date=date(2026, 4, 6))
    assert view.recipients[0] == "- UBND thành phố Huế (mẫu) (để báo cáo);"
    assert not any("quận" in line.lower() for line in view.recipients)


def test_a_stored_file_that_no_longer_matches_its_digest_is_not_served(
        client: FlaskClient, issued: Notice, session: Session, run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
        caplog: pytest.LogCaptureFixture) -> None:
    """Issued files were served without their digest being checked: once the stored PDF changed (a damaged row,
    a restore of another dump, a hand edit), the public download answered 200 with it while the page next to it
    published the issued SHA-256. Now an altered file is not served (the console's download and the command line's
    reprint neither): a Vietnamese page says what happened and that the ward restores from a backup."""
    code, published = issued.unit.code, issued.pdf_sha256
    session.execute(update(Notice).where(Notice.id == issued.id).values(pdf=issued.pdf + b"% altered\n"))
    session.commit()
    with caplog.at_level(logging.ERROR, logger="aggregator.notices.service"):
        served = client.get(f"/cong-khai/{code}/2026/3.pdf")
    assert published in client.get(f"/cong-khai/{code}/2026/3").get_data(as_text=True)  # the page still vouches
    assert served.status_code == 500, "served a PDF whose SHA-256 differs from the one its own public page publishes"
    page = served.get_data(as_text=True)
    assert "Tệp PDF của Thông báo số 03/TB-UBND đã lưu không còn khớp với mã SHA-256 đã công bố" in page
    assert "khôi phục dữ liệu từ bản sao lưu" in page and served.headers["Cache-Control"] == "no-store"
    assert any(published in record.getMessage() for record in caplog.records)
    docx = client.get(f"/cong-khai/{code}/2026/3.docx")  # the DOCX is intact: served as issued
    assert docx.status_code == 200 and hashlib.sha256(docx.data).hexdigest() == issued.docx_sha256
    reprint = run_cli("notice", "--unit", code, "--number", "3", "--year", "2026", "-o", str(tmp_path / "tb.pdf"))
    assert reprint.exit_code == 1 and "không còn khớp với mã SHA-256" in reprint.output
    assert not (tmp_path / "tb.pdf").exists()


def test_the_console_does_not_hand_out_an_altered_file(client: FlaskClient, issued: Notice, session: Session) -> None:
    """The console's download of an issued notice serves the same checked bytes as the public page."""
    session.execute(update(Notice).where(Notice.id == issued.id).values(docx=issued.docx + b"\0"))
    clerk = create_clerk(session, issued.unit)
    session.commit()
    login(client, clerk)
    altered = client.get(f"/console/thong-bao/da-ban-hanh/{issued.id}.docx")
    assert altered.status_code == 500 and "Tệp DOCX của Thông báo số 03/TB-UBND" in altered.get_data(as_text=True)
    assert client.get(f"/console/thong-bao/da-ban-hanh/{issued.id}.pdf").data == issued.pdf


def test_a_renamed_unit_s_notice_is_named_as_it_was_issued(client: FlaskClient, run_cli, issued: Notice,  # type: ignore[no-untyped-def]
                                                           session: Session, tmp_path: Path) -> None:
    """The notice, frozen, says "Phường Bến Nghé"; after the ward was renamed its own page was headed, and the check
    of a copy answered, "… của Phường Sài Gòn", a name the document in hand does not carry."""
    session.execute(update(Unit).where(Unit.id == issued.unit_id).values(name="Phường Sài Gòn"))
    session.commit()
    html = client.get(f"/cong-khai/{issued.unit.code}/2026/3").get_data(as_text=True)
    assert "<h1>Phường Bến Nghé: Thông báo số 03/TB-UBND ngày 06/4/2026</h1>" in html
    assert "Phường Sài Gòn" not in html.split("</header>")[0]
    copy = tmp_path / "ban-sao.pdf"
    copy.write_bytes(issued.pdf)
    assert run_cli("notice", "verify", str(copy)).stdout.startswith(
        "Trùng khớp: Thông báo số 03/TB-UBND ngày 06/4/2026 của Phường Bến Nghé (bản PDF)")
