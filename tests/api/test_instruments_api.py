"""GET /api/v1/instruments: the shape other systems build their forms from, in catalogue order."""

from __future__ import annotations

from tests.api.conftest import Api


def test_instruments_lists_the_three_sets_with_criteria_and_options_in_catalogue_order(api: Api, catalogue):
    response = api.get("/instruments")
    assert response.status_code == 200
    body = response.json
    assert [i["code"] for i in body] == ["hue12", "quay4", "tt01_2018"]
    hue12, quay4, tt01 = body
    assert [c["code"] for c in hue12["criteria"]] == [f"tc{n:02d}" for n in range(1, 13)]
    assert hue12["criteria"][0]["options"] == [
        {"code": "rat_hai_long", "label": "Rất hài lòng", "points": 2},
        {"code": "hai_long", "label": "Hài lòng", "points": 1},
        {"code": "khong_hai_long", "label": "Không hài lòng", "points": 0},
    ]
    assert [c["code"] for c in quay4["criteria"]] == ["q1", "q2", "q3", "q4"]
    assert [(o["code"], o["label"]) for o in quay4["criteria"][2]["options"]] == [
        ("dung_hen", "Đúng hẹn"), ("cham_chap_nhan_duoc", "Chậm hẹn nhưng chấp nhận được"),
        ("khong_dung_hen", "Không đúng hẹn")]
    assert [o["label"] for o in quay4["criteria"][3]["options"]] == ["Đơn giản", "Cần giảm giấy tờ", "Phức tạp"]
    assert [c["code"] for c in tt01["criteria"]] == [f"cs{n}" for n in range(1, 10)]
    assert {c["code"]: c["source"] for c in tt01["criteria"]}["cs3"] == "citizen"
    for instrument in body:
        assert set(instrument) >= {"code", "version", "label", "criteria"}
        expected = catalogue.version(instrument["code"], instrument["version"])
        assert [c["code"] for c in instrument["criteria"]] == [c.code for c in expected.criteria]
        for criterion in instrument["criteria"]:
            assert set(criterion) >= {"code", "label", "options"}
            assert criterion["options"] and all(set(o) == {"code", "label", "points"} for o in criterion["options"])


def test_instruments_needs_a_key(client):
    assert client.get("/api/v1/instruments").status_code == 401
