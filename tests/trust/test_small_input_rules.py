"""Small input rules from the trust review: a result returned in 2099, a JSON list as a comment, and a
comment over the limit on the phone form (cut there, refused by the API) — all a clear 422 now."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from sipas.models import Dossier, Response
from sipas.responses import MAX_COMMENT
from tests.factories import SECRET, answers_for, create_key, create_link, create_unit
from tests.kiosk.helpers import new_device
from tests.sms_links.conftest import csrf_token


@pytest.fixture
def link(session):  # type: ignore[no-untyped-def]
    return create_link(session)


def test_a_dossier_returned_in_2099_is_refused(client, session):
    key = create_key(session, create_unit(session))
    session.commit()
    body = {"code": "HS-2099", "received_at": "2026-01-05T09:00:00+07:00", "returned_at": "2099-01-01"}
    response = client.post("/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422 and response.json["error"]["field"] == "returned_at"
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def _phone_post(client, link, body):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": csrf_token(client.get(f"/r/{link.code}").get_data(as_text=True))}
    return client.post(f"/r/{link.code}", data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize("comment", [["Tốt", "nhanh"], {"y": "kien"}, 5])
def test_a_comment_that_is_not_text_is_refused_on_the_phone(client, session, catalogue, link, comment):
    response = _phone_post(client, link, {"answers": answers_for(catalogue), "comment": comment,
                                          "idempotency_key": "k-0001-list"})
    assert response.status_code == 422 and response.json["field"] == "comment"  # the phone form's own JSON
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_the_phone_form_refuses_a_comment_the_api_refuses(client, session, catalogue, link):
    page = client.get(f"/r/{link.code}").get_data(as_text=True)
    form = {f"a_{code}": option for code, option in answers_for(catalogue).items()}
    form |= {"csrf_token": csrf_token(page), "comment": "ý" * (MAX_COMMENT + 1), "submit_key": "k-0002-long"}
    response = client.post(f"/r/{link.code}", data=form)
    assert response.status_code == 422 and "2.000" in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Response)) == 0
    long_json = _phone_post(client, link, {"answers": answers_for(catalogue), "comment": "a" * (MAX_COMMENT + 1),
                                           "idempotency_key": "k-0003-long"})
    assert long_json.status_code == 422 and long_json.json["field"] == "comment"


def test_a_kiosk_comment_that_is_not_text_is_refused(client, session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    _device, _, token = new_device(session, unit, secret=SECRET)
    session.commit()
    body = {"key": "3b8f1f5e-0000-4000-8000-000000000099", "instrument": "hue12",
            "answers": answers_for(catalogue), "comment": ["Tốt"]}
    response = client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers={"X-Kiosk-Token": token})
    assert response.status_code == 422 and response.json["error"]["field"] == "comment"
