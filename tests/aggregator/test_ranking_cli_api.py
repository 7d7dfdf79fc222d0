"""District ranking; ``sipas report`` and ``GET /api/v1/reports`` give the same JSON."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from aggregator.inputs import QuarterFigures, save_quarter_input
from aggregator.ranking import build_ranking
from sipas.catalogue import Catalogue
from sipas.clock import Period
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, create_district_with_wards, create_key, create_unit


def district_of_four(session: Session, catalogue: Catalogue):  # type: ignore[no-untyped-def]
    district, wards = create_district_with_wards(session, wards=4)
    build_quarter(session, catalogue, wards[0])
    build_quarter(session, catalogue, wards[1])
    save_quarter_input(session, catalogue, wards[2], 2026, 1,
                       QuarterFigures(index5="toan_bo_tai_mot_cua", index6="niem_yet_va_dien_tu",
                                      index8="khong_co_hoac_du", index8_reason="Đơn vị tự đánh giá"),
                       actor="test", now=NOW)
    session.commit()
    return district, wards


def test_ranking_ties_boundaries_and_units_without_data(session: Session, catalogue: Catalogue) -> None:
    district, wards = district_of_four(session, catalogue)
    ranking = build_ranking(session, catalogue, district, Period.quarter(2026, 1), tz=TZ, now=NOW)
    rows = [(r["code"], r["rank"], r["total"], r["class"]) for r in ranking["units"]]
    # wards[2] has only the staff indices 5, 6 and 8: 6.0 of them is no "trung bình" out of 18 (issue 11 §3)
    assert rows == [(wards[0].code, 1, 11.3, "khá"), (wards[1].code, 1, 11.3, "khá"),
                    (wards[2].code, None, 6.0, None), (wards[3].code, None, None, None)]
    assert [r["group"] for r in ranking["units"]] == ["ranked", "ranked", "incomplete", "no_data"]
    assert ranking["highest"]["code"] == wards[0].code and ranking["lowest"]["total"] == 11.3
    assert ranking["average"] == 11.3 and ranking["average_basis"] == "mean_of_units"
    assert ranking["count_per_class"] == {"xuất sắc": 0, "tốt": 0, "khá": 2, "trung bình": 0, "yếu": 0}
    assert (ranking["scored_units"], ranking["incomplete_units"], ranking["units_without_data"]) == (2, 1, 1)


def _without_time(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "generated_at"}


def test_cli_json_equals_api_json(run_cli, client: FlaskClient, session: Session, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    district, wards = district_of_four(session, catalogue)
    key = create_key(session, district)
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    cases = [
        (["--unit", wards[0].code, "--from", "2025-12-15", "--to", "2026-03-06"],
         {"unit": wards[0].code, "from": "2025-12-15", "to": "2026-03-06"}),
        (["--unit", wards[0].code, "--quarter", "2026Q1", "--field", "Hộ tịch"],
         {"unit": wards[0].code, "quarter": "2026Q1", "field": "Hộ tịch"}),
        (["--unit", district.code, "--month", "2026-02", "--channel", "paper"],
         {"unit": district.code, "month": "2026-02", "channel": "paper"}),
        (["--district", district.code, "--year", "2026"], {"district": district.code, "year": "2026"}),
    ]
    for args, query in cases:
        result = run_cli("report", *args, "--json")
        assert result.exit_code == 0, result.output
        api = client.get("/api/v1/reports", query_string=query, headers=headers)
        assert api.status_code == 200, api.get_json()
        assert _without_time(json.loads(result.output)) == _without_time(api.get_json())
    unit_json = json.loads(run_cli("report", "--unit", wards[0].code, "--quarter", "2026Q1", "--json").output)
    assert unit_json["dossiers"]["resolved"] == 3 and unit_json["scores"]["class"] == "khá"


def test_cli_readable_output_and_errors(run_cli, session: Session, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    district, wards = district_of_four(session, catalogue)
    text = run_cli("report", "--unit", wards[0].code, "--quarter", "2026Q1").stdout  # stderr: the database line
    assert text.splitlines()[1] == "quý I năm 2026 (01/01/2026 – 31/3/2026)"
    cut = run_cli("report", "--unit", wards[0].code, "--from", "2025-12-15", "--to", "2026-03-06", "--json").output
    assert json.loads(cut)["period"]["label"] == "từ ngày 15/12/2025 đến ngày 06/3/2026"
    assert "Đã giải quyết 3: trước hạn 1, đúng hạn 1, quá hạn 1; tỷ lệ đúng hạn 66,67%" in text
    assert "Điểm TT 01/2018: 11,3/18, xếp loại khá" in text
    # Biểu II.06a: every column, "trực tiếp và bưu chính" and "trong hạn" included (the table once left them out)
    header = next(line for line in text.splitlines() if line.startswith("Lĩnh vực"))
    assert header.split() == ["Lĩnh", "vực", "Nhận", "T.tuyến", "T.tiếp+BC", "Kỳ", "trước", "Đã", "GQ", "Trước",
                              "Đúng", "Quá", "Đang", "GQ", "Trong", "hạn", "Quá", "hạn", "Đúng", "hạn"]
    total_line = next(line for line in text.splitlines() if line.startswith("Tổng cộng"))
    assert total_line.split() == ["Tổng", "cộng", "7", "2", "3", "2", "3", "1", "1", "1", "4", "2", "2", "66,67%"]
    assert [len(line) for line in (header, total_line)] == [len(header)] * 2  # the columns line up
    table = run_cli("report", "--district", district.code, "--quarter", "2026Q1").output
    assert "Điểm trung bình: 11,3" in table and "chưa có dữ liệu" in table
    assert "Kỳ báo cáo quý I năm 2026 (01/01/2026 – 31/3/2026)" in table
    bad = run_cli("report", "--unit", wards[0].code, "--quarter", "2026Q5")
    assert bad.exit_code != 0 and "Quý “2026Q5” không hợp lệ" in bad.output
    unknown = run_cli("report", "--unit", "KHONG-CO", "--json")
    assert unknown.exit_code != 0 and "Không tìm thấy đơn vị" in unknown.output
    both = run_cli("report", "--unit", wards[0].code, "--district", district.code)
    assert both.exit_code != 0
    for args in (("--json",), ()):  # a ward is no district: refused as the API refuses it, never ranked alone
        ward_alone = run_cli("report", "--district", wards[0].code, "--quarter", "2026Q1", *args)
        assert ward_alone.exit_code == 1, ward_alone.output
        assert f"Đơn vị “{wards[0].code}” ({wards[0].name}) không phải quận/huyện" in ward_alone.output
        assert f"Dùng --unit {wards[0].code}" in ward_alone.output and "Hạng" not in ward_alone.output


def test_api_scoping_and_errors(client: FlaskClient, session: Session, catalogue: Catalogue) -> None:
    district, wards = district_of_four(session, catalogue)
    other = create_unit(session)
    ward_key = create_key(session, wards[0])
    session.commit()
    headers = {"Authorization": f"Bearer {ward_key}"}
    own = client.get("/api/v1/reports?quarter=2026Q1", headers=headers)
    assert own.status_code == 200 and own.get_json()["unit"] == wards[0].code
    assert client.get(f"/api/v1/reports?unit={other.code}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/reports?unit={wards[1].code}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/reports?district={district.code}", headers=headers).status_code == 403
    assert client.get("/api/v1/reports").status_code == 401
    bad = client.get("/api/v1/reports?from=2026-03-01&to=2026-01-01", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "period"
    bad_channel = client.get("/api/v1/reports?channel=fax", headers=headers)
    assert bad_channel.status_code == 422 and "Kênh" in bad_channel.get_json()["error"]["message"]
    not_district = client.get(f"/api/v1/reports?district={wards[0].code}", headers=headers)
    assert not_district.status_code == 422
    assert not_district.get_json()["error"]["code"] == "not_a_district"
    assert not_district.get_json()["error"]["field"] == "district"
    odd = [({"from": "9999-12-31", "to": "9999-12-31"}, "period"), ({"quarter": "9999Q4"}, "period"),
           ({"year": "1900"}, "period"), ({"month": "2026-13"}, "period"),
           ({"from": "2026-02-30", "to": "x"}, "period"),
           ({"field": "Hộ\x00tịch"}, "field"), ({"field": "x" * 300}, "field"), ({"channel": "\x00"}, "channel")]
    for query, field in odd:
        answer = client.get("/api/v1/reports", query_string=query, headers=headers)
        nul = "\x00" in "".join(query.values())  # a NUL may be refused at the door with 400, naming the field
        assert answer.status_code == 422 or (nul and answer.status_code == 400), query
        assert answer.get_json()["error"]["field"] == field


def test_a_ranking_with_a_field_or_channel_is_refused_not_given_unfiltered(
        run_cli, client: FlaskClient, session: Session, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    """A ranking has no filter (TT 01/2018 scores a unit on all its dossiers and ratings; indices 5, 6, 8, 9 are
    the unit's): ``--district`` with ``--field``/``--channel`` (the API's ``district=`` with ``field=`` or
    ``channel=``) answered the unfiltered ranking, exit 0, as if filtered. Refused, as ``--unit`` with
    ``--district`` is: the CLI in Vietnamese, the API with ``ranking_not_filtered`` naming the parameter."""
    district, _wards = district_of_four(session, catalogue)
    key = create_key(session, district)
    session.commit()
    assert run_cli("report", "--district", district.code, "--quarter", "2026Q1", "--json").exit_code == 0
    for extra in (("--field", "Đất đai"), ("--channel", "paper"), ("--field", "Đất đai", "--channel", "paper")):
        refused = run_cli("report", "--district", district.code, "--quarter", "2026Q1", "--json", *extra)
        assert refused.exit_code == 2, refused.output
        assert "Bảng xếp hạng (--district) không lọc theo lĩnh vực hay kênh đánh giá" in refused.output
        assert "Hạng" not in refused.output and '"units"' not in refused.output
    headers = {"Authorization": f"Bearer {key}"}
    for query, name in (({"field": "Đất đai"}, "field"), ({"channel": "paper"}, "channel"),
                        ({"field": "Đất đai", "channel": "paper"}, "field")):
        answer = client.get("/api/v1/reports", query_string={"district": district.code, "quarter": "2026Q1", **query},
                            headers=headers)
        assert answer.status_code == 422, answer.get_json()
        error = answer.get_json()["error"]
        assert (error["code"], error["field"]) == ("ranking_not_filtered", name)
        assert "Bảng xếp hạng không lọc theo lĩnh vực hay kênh đánh giá" in error["message"]
    ranking = client.get("/api/v1/reports", query_string={"district": district.code, "quarter": "2026Q1"},
                         headers=headers)
    assert ranking.status_code == 200 and "units" in ranking.get_json()


def test_the_readable_report_shows_the_qd_766_ratio_with_its_dossiers(run_cli, session: Session,  # type: ignore[no-untyped-def]
                                                                      catalogue: Catalogue) -> None:
    """Every percentage with its n (domain notes §3): the readable report printed the QĐ 766 ratio bare, the one
    rate of the summary without a count (the dashboard says "trên 7 hồ sơ", the notice "(3/7 hồ sơ)")."""
    _district, wards = district_of_four(session, catalogue)
    text = run_cli("report", "--unit", wards[0].code, "--quarter", "2026Q1").stdout
    # 7 dossiers (3 resolved, 4 in progress); late D, overdue F and H, C rated negatively → 3 of 7
    assert "Tỷ lệ hài lòng theo QĐ 766: 42,86% (3/7 hồ sơ)" in text.splitlines()
    empty = run_cli("report", "--unit", wards[3].code, "--quarter", "2026Q1").stdout
    assert "Tỷ lệ hài lòng theo QĐ 766: 0,00% (0/0 hồ sơ)" in empty.splitlines()


def test_a_filtered_readable_report_says_so(run_cli, session: Session, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    """``--field`` and ``--channel`` printed the same heading as the unit's whole report, so a field's figures could
    pass for the unit's; the heading names the filter as the dashboard's badges and the XLSX subtitles do."""
    _district, wards = district_of_four(session, catalogue)
    args = ("report", "--unit", wards[0].code, "--quarter", "2026Q1")
    lines = run_cli(*args, "--field", "Hộ tịch", "--channel", "sms").stdout.splitlines()
    assert lines[1:3] == ["quý I năm 2026 (01/01/2026 – 31/3/2026)", "Đang lọc: lĩnh vực: Hộ tịch; kênh: Tin nhắn SMS"]
    assert run_cli(*args, "--channel", "paper").stdout.splitlines()[2] == "Đang lọc: kênh: Phiếu giấy"
    assert run_cli(*args).stdout.splitlines()[2] == ""  # the whole unit: no such line


def test_a_districts_readable_report_says_its_score_is_pooled(run_cli, session: Session,  # type: ignore[no-untyped-def]
                                                              catalogue: Catalogue) -> None:
    """A district's own report pools every dossier and answer of its units (issue 11 §3: such figures are
    labelled); the readable report gave "11,3/18, xếp loại khá" as if it were one unit's score."""
    district, wards = district_of_four(session, catalogue)
    text = run_cli("report", "--unit", district.code, "--quarter", "2026Q1").stdout.splitlines()
    score = next(i for i, line in enumerate(text) if line.startswith("Điểm TT 01/2018:"))
    assert text[score + 1].startswith("  Cách tính: điểm gộp toàn bộ hồ sơ và phiếu của 5 đơn vị (không phải "
                                      "trung bình các đơn vị")
    ward = run_cli("report", "--unit", wards[0].code, "--quarter", "2026Q1").stdout
    assert "Cách tính" not in ward  # a ward's own score needs no such line
