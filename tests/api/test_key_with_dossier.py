"""A rating's API key and the dossier it names are read in one statement (``names_its_dossier``), with the same
answers as when they were read one by one; on both databases."""

from __future__ import annotations

from sqlalchemy import select

from sipas.models import Dossier, Response
from tests.api.conftest import Api
from tests.factories import answers_for, create_district_with_wards, create_dossier, create_key, local
from tests.statement_support import selects


def _rating(catalogue, code, **extra):  # type: ignore[no-untyped-def]
    return {"instrument": "hue12", "dossier_code": code, "answers": answers_for(catalogue, on=local(2026, 1, 8)),
            "submitted_at": "2026-01-08T10:00:00+07:00", **extra}


def test_a_ward_rating_reads_its_key_and_dossier_in_one_statement(app, api: Api, ward, session, catalogue):
    create_dossier(session, ward, code="HS-MOT", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    seen, stop = selects(app)
    try:
        stored = api.post("/responses", _rating(catalogue, " HS-MOT "))
    finally:
        stop()
    assert stored.status_code == 201, stored.json
    assert stored.json["dossier_code"] == "HS-MOT"
    assert len(seen) == 1 and "FROM api_key" in seen[0] and "dossier" in seen[0], seen
    assert session.scalar(select(Response.dossier_id)) == session.scalar(select(Dossier.id))


def test_the_checks_on_the_dossier_are_unchanged(api: Api, ward, session, catalogue):
    create_dossier(session, ward, code="HS-CHUA", returned=False)
    session.commit()
    assert api.post("/responses", _rating(catalogue, "HS-KHONG")).json["error"]["code"] == "unknown_dossier"
    assert api.post("/responses", _rating(catalogue, "HS-CHUA")).json["error"]["code"] == "not_returned"
    assert api.post("/responses", _rating(catalogue, 42)).status_code == 422  # not text: the view says why
    wrong = Api(api.client, "sipas_nokey_nosecret")
    assert wrong.post("/responses", _rating(catalogue, "HS-CHUA")).status_code == 401  # the key first, as before
    broken = api.client.post("/api/v1/responses", data="{not json", content_type="application/json",
                             headers=api.headers())
    assert broken.status_code == 400 and broken.json["error"]["code"] == "invalid_json"


def test_a_district_key_still_finds_its_wards_dossier(client, session, catalogue):
    district, wards = create_district_with_wards(session, wards=2)
    create_dossier(session, wards[1], code="HS-PHUONG", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    key = create_key(session, district)
    session.commit()
    stored = Api(client, key).post("/responses", _rating(catalogue, "HS-PHUONG"))
    assert stored.status_code == 201 and stored.json["unit"] == wards[1].code, stored.json
