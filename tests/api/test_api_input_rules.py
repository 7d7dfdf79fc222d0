"""API input that once slipped through: odd characters, consent records, dates out of order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.api.errors import domain_error
from sipas.errors import UnknownCriterion
from sipas.models import DossierContact, Response
from sipas.parsing import parse_phone
from tests.api.conftest import Api
from tests.factories import create_dossier, local


@pytest.fixture
def dossier(session, ward):
    made = create_dossier(session, ward, code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 8),
                          returned_at=local(2026, 1, 7, 10))
    session.commit()
    return made


def quay4(**extra):
    return {"instrument": "quay4", "dossier_code": "HS-1", "submitted_at": "2026-01-07T16:00:00+07:00",
            "answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}, **extra}


@pytest.mark.parametrize("answers", [{"\ud800": "x"}, {"q1": "\ud800"}, {"q1": "rat\x00"}])
def test_lone_surrogates_and_nul_in_answers_are_422_json(api: Api, dossier, answers) -> None:
    response = api.post("/responses", quay4(answers=answers))
    assert response.status_code == 422 and response.is_json
    assert response.json["error"]["field"].startswith("answers")


def test_an_error_quoting_a_lone_surrogate_is_still_json(app) -> None:
    """The last line of defence: the JSON encoder (ensure_ascii off) cannot encode a lone surrogate."""
    with app.test_request_context("/api/v1/responses", method="POST"):
        body, status = domain_error(UnknownCriterion("Tiêu chí “\ud800” không thuộc bộ hue12.", field="answers"))
        assert status == 422 and "\\ud800" in body.get_data(as_text=True)


def test_na_in_capitals_means_not_applicable(api: Api, dossier, catalogue) -> None:
    answers = {c.code: c.options[0].code for c in catalogue.current("hue12", local(2026, 1, 7).date()).citizen_criteria}
    answers["tc12"] = "NA"
    response = api.post("/responses", {"instrument": "hue12", "dossier_code": "HS-1", "answers": answers,
                                       "submitted_at": "2026-01-07T16:00:00+07:00"})
    assert response.status_code == 201, response.json
    assert response.json["answers"]["tc12"] == "na"


def test_a_rating_dated_before_the_return_day_is_refused(api: Api, dossier) -> None:
    early = api.post("/responses", quay4(submitted_at="2026-01-06T16:00:00+07:00"))
    assert early.status_code == 422 and early.json["error"]["field"] == "submitted_at"
    # the same local day as the return, even earlier in that day (a ballot dated by day), is accepted
    same_day = api.post("/responses", quay4(submitted_at="2026-01-07"))
    assert same_day.status_code == 201, same_day.json


def test_a_nul_or_odd_bearer_token_is_401(client, dossier) -> None:
    for token in ("sipas_abc\x00_def", "sipas_" + "a" * 500 + "_b", "sipas_ab_c_d"):
        response = client.get("/api/v1/instruments", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_consent_needs_a_phone_number(api: Api, session) -> None:
    response = api.post("/dossiers", {"code": "HS-2", "received_at": "2026-01-05T08:00:00+07:00",
                                      "sms_consent": True})
    assert response.status_code == 422 and response.json["error"]["field"] == "sms_consent"


def test_a_consent_time_in_the_future_is_refused(api: Api) -> None:
    response = api.post("/dossiers", {"code": "HS-3", "received_at": "2026-01-05T08:00:00+07:00",
                                      "phone": "0912345678", "sms_consent": True,
                                      "sms_consent_at": "2099-01-01T08:00:00+07:00"})
    assert response.status_code == 422 and response.json["error"]["field"] == "sms_consent_at"


def test_a_receipt_in_the_future_is_refused_as_the_file_import_refuses_it(api: Api) -> None:
    """A dossier "received" in 2031 was stored (201) and counted in a report years ahead."""
    response = api.post("/dossiers", {"code": "HS-F", "received_at": "2031-01-05T09:00:00+07:00"})
    assert response.status_code == 422 and response.json["error"]["field"] == "received_at"
    assert "chưa đến" in response.json["error"]["message"]


def test_a_changed_number_loses_the_old_consent(api: Api, session) -> None:
    base = {"code": "HS-4", "received_at": "2026-01-05T08:00:00+07:00"}
    assert api.post("/dossiers", {**base, "phone": "0912345678", "sms_consent": True}).status_code == 201
    changed = api.post("/dossiers", {"code": "HS-4", "phone": "0987654321"})
    assert changed.status_code == 200 and changed.json["sms_consent"] is False
    contact = session.scalar(select(DossierContact))
    assert contact.consent_method == "phone_changed"


def test_foreign_numbers_are_refused_unless_their_region_is_allowed(api: Api) -> None:
    response = api.post("/dossiers", {"code": "HS-5", "received_at": "2026-01-05T08:00:00+07:00",
                                      "phone": "+1 202 555 0100"})
    assert response.status_code == 422 and response.json["error"]["field"] == "phone"
    assert parse_phone("+1 202 555 0100", regions=("VN", "US")) == "+12025550100"
    assert parse_phone("0912 345 678", regions=("VN",)) == "+84912345678"


def test_a_rated_dossier_keeps_its_return_date(api: Api, dossier, session) -> None:
    assert api.post("/responses", quay4()).status_code == 201
    response = api.post("/dossiers", {"code": "HS-1", "returned_at": None})
    assert response.status_code == 422 and response.json["error"]["field"] == "returned_at"
    session.expire_all()
    assert session.scalar(select(Response)) is not None
