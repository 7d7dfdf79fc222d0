"""Issue 11 §3-§4 on the console: intervals, "ít phiếu", coverage and ranking apart in the dashboard and XLSX."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.models import Role
from tests.aggregator.fixtures import build_quarter
from tests.aggregator.test_honest_ranking import quay4_ward
from tests.factories import create_clerk, create_district_with_wards, login

Q1 = {"kind": "quarter", "quarter": "2026Q1"}


def test_dashboard_shows_intervals_small_n_coverage_and_ranking_apart(client: FlaskClient, session: Session,
                                                                       catalogue: Catalogue) -> None:
    district, [full] = create_district_with_wards(session, wards=1)
    build_quarter(session, catalogue, full)
    kiosk = quay4_ward(session, catalogue, district)
    leader = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, leader)
    html = client.get("/console/bao-cao/", query_string={**Q1, "unit": full.code}).get_data(as_text=True)
    assert "khoảng tin cậy 95%: 80,46–99,29%" in html  # overall 24 of 25 (test_honest_statistics)
    assert "9,45–90,55%" in html and "ít phiếu" in html  # hue12 tc01: 1 of 2
    assert "Tổng điểm: xếp loại khá (9/9 chỉ số)" in html
    assert "Tỷ lệ hài lòng chung qua các quý" in html and "96,00% (n = 25)" in html  # the trend, Q1 2026 point
    kiosk_page = client.get("/console/bao-cao/", query_string={**Q1, "unit": kiosk.code}).get_data(as_text=True)
    assert "chưa đủ dữ liệu xếp loại (4/9 chỉ số)" in kiosk_page
    assert "chưa có dữ liệu: mẫu phiếu đơn vị dùng trong kỳ không có câu hỏi cho chỉ số này" in kiosk_page
    ranking = client.get("/console/bao-cao/", query_string={**Q1, "unit": district.code}).get_data(as_text=True)
    assert "Số chỉ số" in ranking and "4/9 chỉ số" in ranking
    assert "1 đơn vị chưa đủ 9 chỉ số" in ranking and f"1. {kiosk.name} (1,50 điểm/chỉ số)" in ranking
    assert "trung bình cộng tổng điểm của 1 đơn vị đủ 9 chỉ số" in ranking
    assert "điểm gộp toàn bộ hồ sơ và phiếu của 3 đơn vị" in ranking  # the district's own scores: pooled


def test_xlsx_carries_intervals_small_n_and_coverage(client: FlaskClient, session: Session,
                                                     catalogue: Catalogue) -> None:
    district, [full] = create_district_with_wards(session, wards=1)
    build_quarter(session, catalogue, full)
    kiosk = quay4_ward(session, catalogue, district)
    clerk = create_clerk(session, district)
    session.commit()
    login(client, clerk)
    book = load_workbook(io.BytesIO(client.get("/console/bao-cao/bang-tinh.xlsx",
                                               query_string={**Q1, "unit": full.code}).data))
    rows = list(book["Tiêu chí"].iter_rows(min_row=4, values_only=True))
    assert rows[0][7:] == ("Khoảng tin cậy 95%: thấp (%)", "Khoảng tin cậy 95%: cao (%)", "Ít phiếu (n < 30)")
    tc01 = rows[1]
    assert tc01[3:] == (2, "Rất hài lòng", 1, 50.0, 9.45, 90.55, "ít phiếu")
    overall = next(r for r in rows if r[0] == "Tỷ lệ hài lòng chung")
    assert overall[3:] == (25, "Hài lòng trở lên", 24, 96.0, 80.46, 99.29, "ít phiếu")
    ranked = load_workbook(io.BytesIO(client.get("/console/bao-cao/bang-tinh.xlsx",
                                                 query_string={**Q1, "unit": district.code}).data))["Xếp hạng"]
    by_code = {r[1]: r for r in ranked.iter_rows(min_row=5, values_only=True) if r[1]}
    assert by_code[full.code][4] == "khá" and by_code[full.code][14] == "9/9 chỉ số"
    row = by_code[kiosk.code]
    assert (row[0], row[4], row[14], row[16], row[17]) == (None, "chưa đủ dữ liệu xếp loại", "4/9 chỉ số", 1, 1.5)
    assert row[15].startswith("3: mẫu phiếu đơn vị dùng trong kỳ không có câu hỏi")
