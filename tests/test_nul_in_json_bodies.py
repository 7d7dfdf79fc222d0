"""NUL and lone surrogates in the JSON a kiosk or a phone sends: a clear 4xx or a cleaned comment, never a
500 — on PostgreSQL too, which refuses NUL in any statement (the reason for these checks)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sipas.models import Response
from tests.factories import SECRET, answers_for, create_dossier, create_link, create_unit
from tests.kiosk.helpers import new_device
from tests.sms_links.conftest import csrf_token


def post(client, path: str, body: object, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """JSON with \\u escapes, as browsers send it: lone surrogates survive the trip."""
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def link(session):  # type: ignore[no-untyped-def]
    return create_link(session)


@pytest.fixture
def kiosk(session):
    unit = create_unit(session, allow_anonymous=True)
    dossier = create_dossier(session, unit, code="HS-NUL-1")
    _device, _, token = new_device(session, unit, secret=SECRET)
    session.commit()
    return unit, dossier, {"X-Kiosk-Token": token}


@pytest.mark.parametrize("code", ["HS-NUL-1\x00", "\x00", "HS\ud800"])
def test_a_kiosk_lookup_of_an_impossible_code_is_unknown(client, kiosk, code) -> None:
    unit, _dossier, headers = kiosk
    response = post(client, f"/kiosk/{unit.code}/api/lookup", {"code": code}, headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_dossier"


def test_kiosk_submissions_with_nul_are_refused_or_cleaned(client, session, catalogue, kiosk) -> None:
    unit, _dossier, headers = kiosk
    body = {"instrument": "hue12", "answers": answers_for(catalogue)}
    path = f"/kiosk/{unit.code}/api/submit"
    bad_code = post(client, path, {**body, "key": "nul-key-0001", "dossier_code": "HS\x00"}, headers)
    assert bad_code.status_code == 404
    bad_key = post(client, path, {**body, "key": "nul-key\x00-02"}, headers)
    assert bad_key.status_code == 422 and bad_key.json["error"]["field"] == "idempotency_key"
    cleaned = post(client, path, {**body, "key": "nul-key-0003", "dossier_code": "HS-NUL-1",
                                  "comment": "Cán bộ\x00 tận tình\ud800"}, headers)
    assert cleaned.status_code == 201, cleaned.json
    session.rollback()
    assert session.scalar(select(Response.comment)) == "Cán bộ tận tình"


def test_the_phone_form_cleans_a_comment_with_nul(client, session, catalogue, link) -> None:
    headers = {"X-CSRFToken": csrf_token(client.get(f"/r/{link.code}").get_data(as_text=True))}
    response = post(client, f"/r/{link.code}", {"answers": answers_for(catalogue), "comment": "Tốt\x00",
                                                "idempotency_key": "k\x00"}, headers)
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    session.rollback()
    stored = session.scalar(select(Response.comment))
    assert stored in (None, "Tốt")
