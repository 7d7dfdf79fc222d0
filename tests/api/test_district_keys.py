"""A district's key covers its wards and nothing else; a ward's key covers only that ward."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.models import Dossier
from tests.api.conftest import Api
from tests.factories import create_district_with_wards, create_dossier, create_key, local


@pytest.fixture
def district(session):
    district, wards = create_district_with_wards(session, wards=2)
    _other, other_wards = create_district_with_wards(session, wards=1)
    for unit in (*wards, *other_wards):
        create_dossier(session, unit, code="HS-CHUNG", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    create_dossier(session, wards[0], code="HS-RIENG", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    return district, wards, other_wards[0]


@pytest.fixture
def district_api(client, session, district):
    key = create_key(session, district[0])
    session.commit()
    return Api(client, key)


def test_a_district_key_creates_dossiers_in_its_wards(district_api: Api, district, session):
    _, wards, _ = district
    response = district_api.post("/dossiers", {"code": "HS-MOI", "unit": wards[1].code, "received_at": "2026-01-05"})
    assert response.status_code == 201 and response.json["unit"] == wards[1].code
    assert session.scalar(select(Dossier.unit_id).where(Dossier.code == "HS-MOI")) == wards[1].id


def test_a_district_key_finds_a_ward_dossier_by_its_code_alone(district_api: Api, district):
    _, wards, _ = district
    assert district_api.get("/dossiers/HS-RIENG").json["unit"] == wards[0].code
    updated = district_api.post("/dossiers", {"code": "HS-RIENG", "field": "Chứng thực"})
    assert updated.status_code == 200 and updated.json["unit"] == wards[0].code


def test_a_code_held_by_two_of_its_wards_needs_the_unit(district_api: Api, district):
    _, wards, _ = district
    ambiguous = district_api.get("/dossiers/HS-CHUNG")
    assert ambiguous.status_code == 422 and ambiguous.json["error"]["field"] == "unit"
    assert district_api.get(f"/dossiers/HS-CHUNG?unit={wards[1].code}").json["unit"] == wards[1].code
    rated = district_api.post("/responses", {"instrument": "quay4", "dossier_code": "HS-CHUNG", "unit": wards[1].code,
                                             "answers": {"q1": "hai_long", "q2": "hai_long", "q3": "dung_hen",
                                                         "q4": "don_gian"}})
    assert rated.status_code == 201 and rated.json["unit"] == wards[1].code


def test_a_district_key_cannot_touch_another_district(district_api: Api, district):
    _, _, foreign_ward = district
    for response in (
        district_api.get(f"/dossiers/HS-CHUNG?unit={foreign_ward.code}"),
        district_api.post("/dossiers", {"code": "HS-X", "unit": foreign_ward.code, "received_at": "2026-01-05"}),
        district_api.post("/responses", {"instrument": "quay4", "dossier_code": "HS-CHUNG", "unit": foreign_ward.code,
                                         "answers": {}}),
        district_api.post("/dossiers", {"code": "HS-X", "unit": "KHONG-CO", "received_at": "2026-01-05"}),
    ):
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"


def test_a_ward_key_covers_only_its_ward(client, session, district):
    district_unit, wards, _ = district
    ward_api = Api(client, create_key(session, wards[0]))
    session.commit()
    assert ward_api.get("/dossiers/HS-CHUNG").json["unit"] == wards[0].code
    assert ward_api.get(f"/dossiers/HS-CHUNG?unit={wards[1].code}").status_code == 403
    assert ward_api.post("/dossiers", {"code": "HS-Y", "unit": district_unit.code,
                                       "received_at": "2026-01-05"}).status_code == 403
    assert ward_api.get("/dossiers/HS-KHAC").status_code == 404
