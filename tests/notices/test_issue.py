"""Issuing: numbering per unit and year, corrections, and figures frozen at issue."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices import service
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.errors import ValidationError
from sipas.models import AuditEvent, ResponseChannel
from sipas.settings import Settings
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import create_response, create_unit, local

Q1 = Period.quarter(2026, 1)


def issue(session: Session, catalogue: Catalogue, settings: Settings, unit, number: int,  # type: ignore[no-untyped-def]
          issue_date: date = date(2026, 4, 6), corrects: int | None = None, *, period: Period = Q1,
          now: datetime = NOW) -> Notice:
    """Issue ``unit``'s notice of ``period`` (quarter I of 2026 by default) as the clerk would on ``now``."""
    report = service.compute_report(session, catalogue, unit, period, settings=settings, now=now)
    return service.issue_notice(session, unit, report, service.IssueRequest(period, number, issue_date, corrects),
                                settings=settings, actor="user:canbo", now=now)


def test_numbers_are_per_unit_and_year_and_never_reused(session: Session, catalogue: Catalogue,
                                                        settings: Settings) -> None:
    unit, other = create_unit(session, name="Phường Bến Nghé"), create_unit(session)
    build_quarter(session, catalogue, unit)
    assert service.next_number(session, unit, 2026) == 1
    first = issue(session, catalogue, settings, unit, 3)
    session.commit()
    assert first.number_label == "03/TB-UBND" and first.year == 2026
    assert service.next_number(session, unit, 2026) == 4
    assert service.next_number(session, other, 2026) == 1 and service.next_number(session, unit, 2027) == 1
    with pytest.raises(service.NumberTaken, match="03/TB-UBND năm 2026 đã được dùng"):
        issue(session, catalogue, settings, unit, 3, corrects=first.id)
    session.rollback()
    assert issue(session, catalogue, settings, other, 3).unit_id == other.id  # another unit may use 3
    assert issue(session, catalogue, settings, unit, 3, issue_date=date(2027, 1, 4), corrects=first.id,
                 now=datetime(2027, 1, 5, 3, 0, tzinfo=UTC)).year == 2027
    session.commit()
    assert session.scalars(select(Notice.number).where(Notice.unit_id == unit.id)).all() == [3, 3]
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "notice.issued")).all()
    assert [e.subject for e in events] == ["03/TB-UBND", "03/TB-UBND", "03/TB-UBND"]


def test_issue_refuses_bad_numbers_dates_and_foreign_corrections(session: Session, catalogue: Catalogue,
                                                                  settings: Settings) -> None:
    unit, other = create_unit(session), create_unit(session)
    foreign = issue(session, catalogue, settings, other, 1)
    with pytest.raises(ValidationError, match="từ 1 đến 9999"):
        issue(session, catalogue, settings, unit, 0)
    with pytest.raises(ValidationError, match="Ngày ban hành không được trước"):
        issue(session, catalogue, settings, unit, 1, issue_date=date(2026, 3, 30))
    with pytest.raises(ValidationError, match="không thuộc đơn vị này"):
        issue(session, catalogue, settings, unit, 1, corrects=foreign.id)


def test_a_notice_is_issued_once_its_period_ends_and_dated_no_later_than_today(
        session: Session, catalogue: Catalogue, settings: Settings) -> None:
    """A quarter not yet over was issued (its figures stopped part-way, the page only warned), and so was an issue
    date after today: a typo of the year made notice 01/TB-UBND of a year not yet begun. "Today" is the local
    date (Asia/Ho_Chi_Minh) of the caller's clock, for the console and the command line alike."""
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    mid_march = datetime(2026, 3, 15, 2, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"Kỳ báo cáo chưa kết thúc: chỉ ban hành được từ ngày cuối kỳ "
                                              r"\(31/3/2026\)") as unfinished:
        issue(session, catalogue, settings, unit, 1, issue_date=date(2026, 3, 31), now=mid_march)
    assert unfinished.value.field == "period"
    with pytest.raises(ValidationError, match=r"Ngày ban hành 05/01/2027 là sau hôm nay \(10/4/2026\)") as ahead:
        issue(session, catalogue, settings, unit, 1, issue_date=date(2027, 1, 5))  # a typo for 05/4/2026
    assert ahead.value.field == "issue_date"
    late_evening = datetime(2026, 4, 5, 16, 30, tzinfo=UTC)  # 23:30 on 05/4 in Ha Noi: 06/4 is tomorrow
    with pytest.raises(ValidationError, match="là sau hôm nay"):
        issue(session, catalogue, settings, unit, 1, issue_date=date(2026, 4, 6), now=late_evening)
    assert session.scalars(select(Notice)).all() == []
    past_midnight = datetime(2026, 4, 5, 17, 30, tzinfo=UTC)  # 00:30 on 06/4 in Ha Noi
    assert issue(session, catalogue, settings, unit, 1, issue_date=date(2026, 4, 6), now=past_midnight).year == 2026
    last_day = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)  # the page's rule: from the period's last day on
    other = create_unit(session)
    assert issue(session, catalogue, settings, other, 1, issue_date=date(2026, 3, 31), now=last_day).number == 1


def test_a_notice_without_the_signers_name_is_not_issued(session: Session, catalogue: Catalogue,
                                                          settings: Settings) -> None:
    """Nghị định 30/2020: the signer's name is part of the signature block; a numbered notice without it would
    be frozen that way (it was issued with an empty line under "CHỦ TỊCH"). A draft may still lack it."""
    unit = create_unit(session, name="Phường Bến Nghé", signatory_name="")
    with pytest.raises(ValidationError, match="no signatory name") as refused:
        issue(session, catalogue, settings, unit, 1)
    assert refused.value.field == "signatory_name"
    assert refused.value.message_vi.startswith("Chưa có họ và tên người ký.")
    assert session.scalars(select(Notice)).all() == []
    report = service.compute_report(session, catalogue, unit, Q1, settings=settings, now=NOW)
    draft = service.notice_view(session, unit, report, settings=settings, number=None, issue_date=date(2026, 4, 6))
    assert service.render(draft, "docx", settings).startswith(b"PK")
    unit.options = {**(unit.options or {}), "notice": {"signatory_name": "Phạm Thị Dung"}}
    assert issue(session, catalogue, settings, unit, 1).content["signatory_name"] == "Phạm Thị Dung"


def test_a_correction_is_a_new_number_that_names_the_old_one(session: Session, catalogue: Catalogue,
                                                              settings: Settings) -> None:
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    old = issue(session, catalogue, settings, unit, 2)
    new = issue(session, catalogue, settings, unit, 5, issue_date=date(2026, 4, 9), corrects=old.id)
    session.commit()
    assert new.corrects_id == old.id and new.number != old.number
    assert "Thông báo này thay thế Thông báo số 02/TB-UBND ngày 06/4/2026." in new.content["closing"]
    assert [n.number for n in service.corrected_by(session, old)] == [5]
    assert old.pdf.startswith(b"%PDF")  # the old one is kept as issued


def test_a_correction_is_of_the_same_period(session: Session, catalogue: Catalogue, settings: Settings) -> None:
    """A correction replaced a notice of another period: a quarter II notice issued with quarter I's notice
    picked in "Đính chính (thay thế)" printed "thay thế Thông báo số 01/TB-UBND" and marked quarter I's
    figures as corrected by quarter II's. A correction is of the same unit and the same period."""
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    q1 = issue(session, catalogue, settings, unit, 1)
    session.commit()
    july = datetime(2026, 7, 6, 3, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="Thông báo số 01/TB-UBND là kết quả quý I năm 2026, không phải quý II "
                                              "năm 2026: thông báo đính chính phải cùng kỳ báo cáo") as refused:
        issue(session, catalogue, settings, unit, 2, issue_date=date(2026, 7, 6), corrects=q1.id,
              period=Period.quarter(2026, 2), now=july)
    assert refused.value.field == "corrects"
    session.rollback()
    assert service.corrected_by(session, q1) == []
    assert issue(session, catalogue, settings, unit, 2, issue_date=date(2026, 7, 6), period=Period.quarter(2026, 2),
                 now=july).corrects_id is None  # quarter II's own notice, not a correction


def test_a_second_notice_of_an_issued_period_is_a_correction_of_its_current_notice(
        session: Session, catalogue: Catalogue, settings: Settings) -> None:
    """A second notice of a period that had one was issued without being a correction: two published notices of
    quarter I, neither replacing the other, and nobody could tell which figures were the ward's. Now it must
    correct the period's current notice, the one not corrected yet, so the chain stays linear (01 ← 02 ← 03)."""
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    first = issue(session, catalogue, settings, unit, 1)
    session.commit()
    with pytest.raises(ValidationError, match="Kỳ báo cáo quý I năm 2026 đã có Thông báo số 01/TB-UBND ngày "
                                              "06/4/2026: chỉ ban hành thêm thông báo đính chính") as refused:
        issue(session, catalogue, settings, unit, 2, issue_date=date(2026, 4, 7))
    assert refused.value.field == "corrects"
    session.rollback()
    second = issue(session, catalogue, settings, unit, 2, issue_date=date(2026, 4, 7), corrects=first.id)
    session.commit()
    with pytest.raises(ValidationError, match=r"Thông báo số 01/TB-UBND đã được đính chính: chỉ đính chính thông "
                                              r"báo hiện hành của kỳ \(số 02/TB-UBND\)"):
        issue(session, catalogue, settings, unit, 3, issue_date=date(2026, 4, 8), corrects=first.id)
    session.rollback()
    with pytest.raises(ValidationError, match="đã có Thông báo số 02/TB-UBND ngày 07/4/2026"):
        issue(session, catalogue, settings, unit, 3, issue_date=date(2026, 4, 8))
    session.rollback()
    issue(session, catalogue, settings, unit, 3, issue_date=date(2026, 4, 8), corrects=second.id)
    session.commit()
    assert [(n.number, n.corrects_id) for n in service.issued_notices(session, unit)] == \
        [(3, second.id), (2, first.id), (1, None)]


def test_a_notice_stored_meanwhile_is_seen_when_storing(session: Session, catalogue: Catalogue,
                                                        settings: Settings) -> None:
    """The check runs again when the notice is stored: `sipas notice --issue` converts its PDF between the check
    and the store, time enough for the console to issue the same period's notice."""
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    report = service.compute_report(session, catalogue, unit, Q1, settings=settings, now=NOW)
    prepared = [service.prepare_notice(session, unit, report, service.IssueRequest(Q1, number, date(2026, 4, 6)),
                                       settings=settings, actor="user:canbo", now=NOW) for number in (1, 2)]
    for notice in prepared:
        notice.pdf = service.pdf_of(notice.docx, settings)
    service.store_notice(session, unit, prepared[0])
    session.commit()
    with pytest.raises(ValidationError, match="đã có Thông báo số 01/TB-UBND"):
        service.store_notice(session, unit, prepared[1])
    session.rollback()
    assert session.scalars(select(Notice.number)).all() == [1]


def test_issuing_freezes_the_figures(session: Session, catalogue: Catalogue, settings: Settings) -> None:
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    notice = issue(session, catalogue, settings, unit, 3)
    session.commit()
    frozen = (notice.docx, notice.pdf, json.dumps(notice.report, sort_keys=True), json.dumps(notice.content))
    assert "comments" not in notice.report  # free text never stored with a published notice
    assert notice.report["dossiers"]["resolved"] == 3  # B, C and D
    assert notice.content["sections"][0]["paragraphs"][0] == (  # hand-computed from the fixture's table
        "Tổng số hồ sơ thủ tục hành chính trong kỳ là 7 hồ sơ, gồm 5 hồ sơ tiếp nhận mới (trực tuyến: 2; trực tiếp"
        " và qua dịch vụ bưu chính công ích: 3) và 2 hồ sơ từ kỳ trước chuyển sang. Đã giải quyết 3 hồ sơ, trong đó"
        " trước hạn 1, đúng hạn 1, quá hạn 1; tỷ lệ giải quyết đúng hạn đạt 66,67% (2/3 hồ sơ). Đang giải quyết 4 hồ"
        " sơ (trong"
        " hạn: 2; quá hạn: 2).")
    assert list(notice.content["field_rows"][-1]) == ["", "Tổng cộng", "7", "2", "3", "2", "3", "1", "1", "1", "4", "2",
                                                "2"]
    before = notice.report["responses"]
    for day in (3, 4, 5):  # a late import of paper ballots dated inside the quarter
        create_response(session, catalogue, unit, instrument="quay4", channel=ResponseChannel.PAPER,
                        answers={"q1": "khong_hai_long", "q2": "khong_hai_long", "q3": "khong_dung_hen",
                                 "q4": "phuc_tap"}, submitted_at=local(2026, 3, day), now=NOW)
    session.commit()
    live = service.compute_report(session, catalogue, unit, Q1, settings=settings, now=NOW)
    assert live["responses"] == before + 3
    frozen_charts = {b["code"]: b["chart_svg"] for b in notice.content["instruments"]}
    assert set(frozen_charts) == {"hue12", "quay4", "tt01_2018"} and all(frozen_charts.values())
    live_view = service.notice_view(session, unit, live, settings=settings, number=None, issue_date=date(2026, 4, 6))
    live_quay4 = next(b for b in live_view.instruments if b.code == "quay4")
    assert live_quay4.chart_svg != frozen_charts["quay4"] and "n = 4" in live_quay4.chart_svg
    assert "n = 1" in frozen_charts["quay4"] and "n = 4" not in frozen_charts["quay4"]
    session.expire_all()
    stored = session.get(Notice, notice.id)
    assert stored is not None
    assert (stored.docx, stored.pdf, json.dumps(stored.report, sort_keys=True), json.dumps(stored.content)) == frozen
    assert service.issued_bytes(stored, "docx") == frozen[0]
    html = service.issued_bytes(stored, "html").decode()
    assert f"Tổng số phiếu đánh giá thu được là {before} phiếu" in html
    docx_text = "\n".join(p.text for p in Document(io.BytesIO(stored.docx)).paragraphs)
    assert f"thu được là {before} phiếu" in docx_text
    images = [p for p in Document(io.BytesIO(stored.docx)).part.package.parts if p.partname.endswith(".png")]
    assert len(images) == 1 + 3  # the QR and the three charts as issued
    assert html.count('<figure class="chart">') == 3 and frozen_charts["quay4"] in html
    unit.options = {"notice": {"recipients": ["Sở Nội vụ"], "paragraphs": {"closing": "Lời mới."}}}
    session.commit()  # new wording for the unit changes drafts, never the issued notice
    session.expire_all()
    stored = session.get(Notice, notice.id)
    assert stored is not None and service.issued_bytes(stored, "html").decode() == html
    assert (stored.docx, json.dumps(stored.content)) == (frozen[0], frozen[3])


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_issued_pdf_is_real_and_stays_identical(session: Session, catalogue: Catalogue, settings: Settings,
                                                real_soffice: str, tmp_path: Path) -> None:
    unit = create_unit(session, name="Phường Bến Nghé")
    build_quarter(session, catalogue, unit)
    notice = issue(session, catalogue, settings, unit, 3)
    session.commit()
    path = tmp_path / "issued.pdf"
    path.write_bytes(notice.pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Số: 03/TB-UBND" in text and "Bến Nghé, ngày 06 tháng 4 năm 2026" in text
    assert "quý I năm 2026" in text and "Tiêu chí 1. Đánh giá tổng thể dịch vụ" in text
    create_response(session, catalogue, unit, instrument="quay4", channel=ResponseChannel.PAPER,
                    submitted_at=local(2026, 3, 2), now=NOW)
    session.commit()
    session.expire_all()
    assert session.get(Notice, notice.id).pdf == path.read_bytes()  # type: ignore[union-attr]


def test_a_quarter_without_data_says_so_instead_of_zero_percent(session: Session, catalogue: Catalogue,
                                                                settings: Settings) -> None:
    unit = create_unit(session, name="Xã Trống")
    report = service.compute_report(session, catalogue, unit, Q1, settings=settings, now=NOW)
    view = service.notice_view(session, unit, report, settings=settings, number=1, issue_date=date(2026, 4, 6))
    dossiers, ballots, criteria, overall = view.sections
    assert "tỷ lệ giải quyết đúng hạn đạt – (không có số liệu)" in dossiers.paragraphs[0]
    assert "0 phiếu (không có)" in ballots.paragraphs[0] and "0,00%" not in ballots.paragraphs[0]
    assert criteria.bullets == ("Chưa có phiếu đánh giá trong kỳ.",) and not criteria.instruments
    assert "0,00%" not in overall.paragraphs[0] and "Điểm đánh giá" not in overall.paragraphs[0]
    html = service.render(view, "html", settings).decode()
    assert "- Chưa có phiếu đánh giá trong kỳ." in html


def test_the_hand_made_sample_has_the_real_report_shape(session: Session, catalogue: Catalogue,
                                                        settings: Settings) -> None:
    from tests.notices.sample_report import sample_report

    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    real, sample = service.compute_report(session, catalogue, unit, Q1, settings=settings, now=NOW), sample_report()
    assert set(sample) <= set(real)
    for key in ("dossiers", "paper_ballots", "overall", "satisfaction_766", "scores"):
        assert set(sample[key]) <= set(real[key]), key
    assert set(sample["fields"][0]) <= set(real["fields"][0])
    assert set(sample["channels"][0]) <= set(real["channels"][0])
    assert set(sample["instruments"][0]["criteria"][0]["options"][0]) <= set(
        real["instruments"][0]["criteria"][0]["options"][0])
