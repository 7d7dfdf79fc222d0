"""Dashboard, staff inputs form, downloads and SVG charts."""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator import charts
from aggregator.models import QuarterInput
from sipas.cases.overrides import index8_reason
from sipas.catalogue import Catalogue
from sipas.levels import TONES
from sipas.models import AuditEvent, ResponseChannel, Role
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import (
    create_clerk,
    create_district_with_wards,
    create_dossier,
    create_response,
    create_unit,
    local,
    login,
)

Q1 = {"kind": "quarter", "quarter": "2026Q1"}


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_period_older_than_the_pickers_lists_is_offered_by_its_name(client: FlaskClient, session: Session) -> None:
    """The picker lists the last 12 quarters, 24 months and 8 years; a link to an older period still shows it,
    selected, named as the lists name theirs (the quarter's Roman numeral in capitals)."""
    clerk = create_clerk(session, create_unit(session))
    session.commit()
    login(client, clerk)
    for kind, value, name in (("quarter", "2001Q1", "Quý I năm 2001"), ("month", "2001-02", "Tháng 2 năm 2001"),
                              ("year", "2001", "Năm 2001")):
        html = client.get("/console/bao-cao/", query_string={"kind": kind, kind: value}).get_data(as_text=True)
        assert f'<option value="{value}" selected>{name}</option>' in html


def test_dashboard_for_a_clerk_and_404_for_another_unit(client: FlaskClient, session: Session,
                                                        catalogue: Catalogue) -> None:
    unit = create_unit(session, name="Phường Bến Nghé")
    other = create_unit(session)
    build_quarter(session, catalogue, unit)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/bao-cao/", query_string=Q1)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Báo cáo kết quả đánh giá: Phường Bến Nghé" in html
    assert "Kỳ báo cáo quý I năm 2026 (01/01/2026 – 31/3/2026)" in html
    assert "66,67%" in html and "<svg" in html and "n = 2" in html
    assert "Phải chờ lâu" in html and "cần theo dõi" in html
    assert f'href="/console/cases?unit={unit.code}">xem và xử lý phản ánh</a>' in html
    assert "Tổng cộng" in html and "Chứng thực" in html
    assert "Tổng điểm: xếp loại khá" in html and "11,3/18" in html and "1,3" in html  # index 7
    assert "xuất sắc từ 15,0 điểm; tốt từ 12,0 điểm; khá từ 9,0 điểm; trung bình từ 6,0 điểm; yếu dưới 6,0 điểm" in html
    assert client.get("/console/bao-cao/", query_string={**Q1, "unit": other.code}).status_code == 404
    assert client.get("/console/bao-cao/bang-tinh.xlsx", query_string={"unit": other.code}).status_code == 404
    assert client.get("/console/bao-cao/phieu.csv", query_string={"unit": other.code}).status_code == 404
    drill = client.get("/console/bao-cao/", query_string={**Q1, "field": "Hộ tịch", "channel": "sms"})
    assert drill.status_code == 200 and "Bỏ lọc" in drill.get_data(as_text=True)
    bad = client.get("/console/bao-cao/", query_string={"kind": "range", "from": "2026-03-01", "to": "2026-01-01"})
    assert bad.status_code == 200 and "Ngày kết thúc đứng trước ngày bắt đầu" in bad.get_data(as_text=True)
    odd = client.get("/console/bao-cao/", query_string={"kind": "year", "year": "9999"})
    assert odd.status_code == 200 and "2000-2100" in odd.get_data(as_text=True)
    assert "Tên lĩnh vực không hợp lệ" in client.get("/console/bao-cao/?field=%01").get_data(as_text=True)
    # a NUL may be refused at the door (400) before the page explains it; never a database error
    nul = client.get("/console/bao-cao/?field=%00")
    assert nul.status_code == 400 or "Tên lĩnh vực không hợp lệ" in nul.get_data(as_text=True)


def test_the_field_picker_lists_fields_in_vietnamese_order(client: FlaskClient, session: Session,
                                                          catalogue: Catalogue) -> None:
    """"Đất đai" between "Chứng thực" and "Hộ tịch", not after every other field as code points put it."""
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    create_dossier(session, unit, code="HS-XD", field="Xây dựng", received_at=local(2026, 2, 1), now=NOW)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/bao-cao/", query_string=Q1).get_data(as_text=True)
    picker = page.split('<select name="field">', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option>([^<]+)</option>", picker) == ["Chứng thực", "Đất đai", "Hộ tịch", "Xây dựng"]


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/console/bao-cao/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_district_user_sees_the_ranking(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    district, wards = create_district_with_wards(session)
    build_quarter(session, catalogue, wards[0])
    leader = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, leader)
    html = client.get("/console/bao-cao/", query_string=Q1).get_data(as_text=True)
    assert "Xếp hạng các đơn vị" in html and wards[0].name in html and "11,3" in html
    comments = html.split("<h2>Ý kiến của người dân</h2>")[1].split("</section>")[0]
    assert "<th>Đơn vị</th>" in comments  # a district's comments name their ward
    row = next(r for r in comments.split("<tr") if "Phải chờ lâu" in r)
    assert f"<td>{wards[0].name}</td>" in row
    ward_page = client.get("/console/bao-cao/", query_string={**Q1, "unit": wards[0].code})
    assert ward_page.status_code == 200
    own = ward_page.get_data(as_text=True).split("<h2>Ý kiến của người dân</h2>")[1].split("</section>")[0]
    assert "Phải chờ lâu" in own and "<th>Đơn vị</th>" not in own  # a ward's own page needs no such column
    assert client.get("/console/bao-cao/so-lieu-quy").status_code == 403  # leaders read, clerks enter


def test_staff_inputs_form_saves_and_audits(client: FlaskClient, session: Session) -> None:
    unit = create_unit(session)
    other = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/bao-cao/so-lieu-quy", query_string={"quarter": "2026Q1"})
    assert page.status_code == 200 and "Chỉ số 5" in page.get_data(as_text=True)
    form = {"csrf_token": _csrf(page.get_data(as_text=True)), "unit": unit.code, "quarter": "2026Q1",
            "index5": "tiep_nhan_tra_tai_mot_cua", "index6": "", "index8": "duoi_90", "ballots_handed_out": "1.200",
            "index8_reason": "Phản ánh nhận qua đường dây nóng chưa nhập vào hệ thống"}
    assert client.post("/console/bao-cao/so-lieu-quy", data={**form, "index8_reason": " "}).status_code == 400
    assert client.post("/console/bao-cao/so-lieu-quy", data=form).status_code == 302
    row = session.scalar(select(QuarterInput).where(QuarterInput.unit_id == unit.id))
    assert (row.year, row.quarter, row.index5_points, row.index6_points, row.index8_points,
            row.ballots_handed_out) == (2026, 1, 1, None, 0, 1200)
    assert index8_reason(session, unit.id, 2026, 1) == "Phản ánh nhận qua đường dây nóng chưa nhập vào hệ thống"
    saved = client.get("/console/bao-cao/so-lieu-quy",
                       query_string={"quarter": "2026Q1", "unit": unit.code}).get_data(as_text=True)
    assert "Phản ánh nhận qua đường dây nóng" in saved
    # who saved, as a clerk says it (the audit log's words), not the stored actor code "bởi user:canbo…"
    assert f"bởi {clerk.full_name or clerk.username}." in saved and "user:" not in saved
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "aggregator.quarter_input.saved"))
    assert event.subject == "2026Q1" and event.actor == f"user:{clerk.username}"
    assert client.post("/console/bao-cao/so-lieu-quy", data={**form, "index5": "bogus"}).status_code == 400
    assert client.post("/console/bao-cao/so-lieu-quy", data={**form, "unit": other.code}).status_code == 404
    without_csrf = {k: v for k, v in form.items() if k != "csrf_token"}
    assert client.post("/console/bao-cao/so-lieu-quy", data=without_csrf).status_code == 400
    report = client.get("/console/bao-cao/", query_string=Q1).get_data(as_text=True)
    assert "phát ra 1.200" in report
    cut = client.get("/console/bao-cao/", query_string={"kind": "range", "from": "2026-01-01", "to": "2026-03-06"})
    text = cut.get_data(as_text=True)
    assert "phát ra 1.200" not in text and "không đủ số liệu phiếu phát ra cho kỳ không trọn quý" in text
    # a quarter before TT 01/2018 or a malformed one is refused, never saved into another quarter
    for quarter in ("2010Q1", "2026Q9"):
        refused = client.post("/console/bao-cao/so-lieu-quy", data={**form, "quarter": quarter})
        assert refused.status_code == 400
    assert len(list(session.scalars(select(QuarterInput)))) == 1
    old = client.get("/console/bao-cao/so-lieu-quy", query_string={"quarter": "2010Q1"})
    assert old.status_code == 200
    assert "Chưa có bộ chỉ số TT 01/2018 áp dụng cho quý I năm 2010" in old.get_data(as_text=True)


def test_exports_open_and_csv_is_anonymous(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    district, wards = create_district_with_wards(session)
    build_quarter(session, catalogue, wards[0])
    with_phone = create_dossier(session, wards[0], code="000.00.20.H57-260201-0099", phone="+84912345678",
                                sms_consent=True, received_at=local(2026, 2, 1), now=NOW)
    create_response(session, catalogue, wards[0], dossier=with_phone, channel=ResponseChannel.SMS,
                    submitted_at=local(2026, 2, 10), comment="Gọi 0912345678", now=NOW)
    clerk = create_clerk(session, district)
    session.commit()
    login(client, clerk)
    xlsx = client.get("/console/bao-cao/bang-tinh.xlsx", query_string={**Q1, "unit": district.code})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Tiêu chí", "Lĩnh vực", "Xếp hạng"]
    assert book["Tiêu chí"]["A2"].value == "Quận Thử, quý I năm 2026 (01/01/2026 – 31/3/2026)"
    assert book["Xếp hạng"]["A2"].value == "Quận Thử, quý I năm 2026 (01/01/2026 – 31/3/2026)"
    fields = [row for row in book["Lĩnh vực"].iter_rows(min_row=5, values_only=True)]
    assert fields[-1][0] == "Tổng cộng" and fields[-1][5] == 4
    assert [row[0] for row in fields] == ["Chứng thực", "Đất đai", "Hộ tịch", "Tổng cộng"]  # Vietnamese order
    assert next(r[2] for r in book["Xếp hạng"].iter_rows(min_row=5, values_only=True)) == wards[0].name
    criteria = list(book["Tiêu chí"].iter_rows(min_row=5, values_only=True))
    # 2 of 3: Wilson 20.77–93.85 (hand-computed in test_honest_ranking); 3 answers are "ít phiếu"
    assert criteria[0][2:] == ("Đánh giá tổng thể dịch vụ", 3, "Rất hài lòng", 2, 66.67, 20.77, 93.85, "ít phiếu")
    response = client.get("/console/bao-cao/phieu.csv", query_string={**Q1, "unit": district.code})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice
    text = response.get_data(as_text=True)
    for secret in ("0912345678", "912345678", "H57", wards[0].code + "-B", "Gọi", "Phải chờ lâu"):
        assert secret not in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["stt", "bo_tieu_chi", "phien_ban", "kenh", "ngay", "cau_tra_loi"]
    assert len(rows) == 1 + 5  # R1-R4 and the new one
    first = rows[1]
    assert first[1:5] == ["hue12", "2018.1", "kiosk", "2026-01-06"]
    assert "tc01=rat_hai_long" in first[5] and "tc02=na" in first[5]


def test_a_download_with_a_bad_period_or_filter_is_refused_not_another_file(
        client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    """The dashboard shows a bad period or filter as a message over the current quarter, unfiltered; the
    downloads did the same without the message: channel=SMS (channels are lower case) gave every channel's
    responses, an inverted range the current quarter's workbook, under a file name of another period. A
    download is refused (400, the Vietnamese reason), as the CLI and the API refuse them."""
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    inverted = {"unit": unit.code, "kind": "range", "from": "31/03/2026", "to": "01/01/2026"}
    for path in ("/console/bao-cao/bang-tinh.xlsx", "/console/bao-cao/phieu.csv"):
        for query, reason in (({**Q1, "unit": unit.code, "channel": "SMS"}, "Kênh “SMS” không hợp lệ"),
                              (inverted, "Ngày kết thúc đứng trước ngày bắt đầu"),
                              ({**Q1, "unit": unit.code, "field": "Hộ\x01tịch"}, "Tên lĩnh vực không hợp lệ"),
                              ({"unit": unit.code, "kind": "year", "year": "9999"}, "2000-2100")):
            got = client.get(path, query_string=query)
            assert got.status_code == 400, (path, query, got.headers.get("Content-Disposition"))
            assert "Content-Disposition" not in got.headers and got.mimetype == "text/html"
            page = got.get_data(as_text=True)
            assert reason in page and "Không tạo được tệp tải về" in page
    good = client.get("/console/bao-cao/phieu.csv", query_string={**Q1, "unit": unit.code, "channel": "sms"})
    rows = list(csv.reader(io.StringIO(good.get_data(as_text=True).lstrip("\ufeff"))))
    assert good.status_code == 200 and [r[3] for r in rows[1:]] == ["sms"]


def test_a_filtered_download_says_its_filter(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    """A workbook filtered by field and channel named only its unit and period, so a field's figures passed for
    the unit's; the sheets' subtitles name the filter as the dashboard's badges do (the channel by its
    Vietnamese label), and both files' names carry it (the CSV is a flat table: its name is its only heading)."""
    district, wards = create_district_with_wards(session)
    build_quarter(session, catalogue, wards[0])
    clerk = create_clerk(session, district)
    session.commit()
    login(client, clerk)
    query = {**Q1, "unit": district.code, "field": "Đất đai", "channel": "paper"}
    xlsx = client.get("/console/bao-cao/bang-tinh.xlsx", query_string=query)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    period = "Quận Thử, quý I năm 2026 (01/01/2026 – 31/3/2026)"
    for sheet in ("Tiêu chí", "Lĩnh vực"):
        assert book[sheet]["A2"].value == f"{period}; lĩnh vực: Đất đai; kênh: Phiếu giấy"
    assert book["Xếp hạng"]["A2"].value == f"{period}; xếp hạng tính trên mọi lĩnh vực và mọi kênh"
    name = f"bao-cao-{district.code}-2026-01-01-2026-03-31-linh-vuc-dat-dai-kenh-paper"
    assert xlsx.headers["Content-Disposition"] == f'attachment; filename="{name}.xlsx"'
    csv_file = client.get("/console/bao-cao/phieu.csv", query_string=query)
    name = f"phieu-{district.code}-2026-01-01-2026-03-31-linh-vuc-dat-dai-kenh-paper"
    assert csv_file.headers["Content-Disposition"] == f'attachment; filename="{name}.csv"'
    plain = client.get("/console/bao-cao/bang-tinh.xlsx", query_string={**Q1, "unit": district.code})
    assert load_workbook(io.BytesIO(plain.data))["Tiêu chí"]["A2"].value == period
    assert plain.headers["Content-Disposition"].endswith('2026-03-31.xlsx"')


def test_svg_charts_are_well_formed_with_n_and_legend() -> None:
    instrument = {"label": "Bộ <12> tiêu chí", "criteria": [
        {"label": "Tiêu chí A & B", "short_label": "A & B", "n": 3, "options": [
            {"label": "Rất hài lòng", "count": 1}, {"label": "Hài lòng", "count": 1},
            {"label": "Không hài lòng", "count": 1}]},
        {"label": "Trống", "short_label": "Trống", "n": 0, "options": [
            {"label": "Rất hài lòng", "count": 0}, {"label": "Hài lòng", "count": 0},
            {"label": "Không hài lòng", "count": 0}]},
        {"label": "Khác", "short_label": "Khác", "n": 2, "options": [
            {"label": "Đúng hẹn", "count": 2}, {"label": "Chậm", "count": 0}, {"label": "Không đúng hẹn", "count": 0}]},
    ]}
    svg = charts.criteria_chart(instrument)
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "n = 3" in texts and "n = 0" in texts and "Chưa có câu trả lời" in texts
    assert "33,34%" in texts and "Rất hài lòng" in texts and "Đúng hẹn" in texts and "100,00%" in texts
    fills = set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))
    assert {TONES["good"].fill, TONES["mid"].fill, TONES["bad"].fill} <= fills
    bar = charts.timeliness_chart({"early": 1, "on_time": 2, "late": 1, "resolved": 4})
    texts = [t.text for t in ET.fromstring(bar).iter("{http://www.w3.org/2000/svg}text")]
    assert "n = 4" in texts and "50,00%" in texts and "Trước hạn" in texts


def test_an_empty_timeliness_bar_speaks_of_dossiers_not_answers() -> None:
    """A period without a resolved dossier: the dashboard's timeliness bar said "Chưa có câu trả lời" (no answer
    yet), the words of an empty criterion, under "Hồ sơ đã giải quyết"."""
    bar = charts.timeliness_chart({"early": 0, "on_time": 0, "late": 0, "resolved": 0})
    texts = [t.text for t in ET.fromstring(bar).iter("{http://www.w3.org/2000/svg}text")]
    assert "Chưa có hồ sơ giải quyết xong" in texts and "n = 0" in texts
    assert "Chưa có câu trả lời" not in texts


def test_after_a_bad_filter_the_dashboards_downloads_hold_what_it_shows(
        client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    """The dashboard shows a bad period or filter as a message over the current quarter, unfiltered; its
    download buttons carried the query as typed, so after the message they led to the refusal page. They carry
    what the page shows: the current quarter, no bad filter, a good filter kept."""
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    shown = client.get("/console/bao-cao/", query_string={"unit": unit.code, "kind": "range", "from": "31/03/2026",
                                                          "to": "01/01/2026", "channel": "sms"})
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Ngày kết thúc đứng trước ngày bắt đầu" in page
    links = re.findall(r'href="(/console/bao-cao/(?:bang-tinh\.xlsx|phieu\.csv)\?[^"]*)"', page)
    assert len(links) == 2, links
    for link in links:
        got = client.get(html.unescape(link))
        assert got.status_code == 200, (link, got.get_data(as_text=True)[:300])
        assert "channel=sms" in html.unescape(link) and "from=" not in link
    typo = client.get("/console/bao-cao/", query_string={**Q1, "unit": unit.code, "channel": "SMS"})
    for link in re.findall(r'href="(/console/bao-cao/(?:bang-tinh\.xlsx|phieu\.csv)\?[^"]*)"', typo.get_data(True)):
        assert "channel" not in link and client.get(html.unescape(link)).status_code == 200


def test_a_unit_without_paper_ballots_is_not_told_it_has_not_entered_them(client: FlaskClient, session: Session,
                                                                          catalogue: Catalogue) -> None:
    """The report gives no note for a unit that uses no paper (``paper_ballots.note`` null); the dashboard put
    "chưa nhập số phiếu phát ra" in its place, for a month too, where no such figure can be entered (it is kept
    per quarter)."""
    unit = create_unit(session)
    dossier = create_dossier(session, unit, received_at=local(2026, 2, 2), returned_at=local(2026, 2, 4), now=NOW)
    create_response(session, catalogue, unit, dossier=dossier, channel=ResponseChannel.KIOSK,
                    submitted_at=local(2026, 2, 10), now=NOW)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    for query in ({"kind": "month", "month": "2026-02"}, Q1):
        html = client.get("/console/bao-cao/", query_string=query).get_data(as_text=True)
        assert "<p>Phiếu giấy: thu vào 0.</p>" in html
        assert "chưa nhập số phiếu phát ra" not in html
