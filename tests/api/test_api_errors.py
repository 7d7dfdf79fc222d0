"""Every failure is JSON ``{"error": {"code", "message"}}``; no input produces a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sipas.models import ApiKey, Dossier
from tests.api.conftest import Api

VALID_DOSSIER = {"code": "HS-1", "received_at": "2026-01-05T09:00:00+07:00"}
ENDPOINTS = [("post", "/dossiers"), ("post", "/responses"), ("get", "/dossiers/HS-1"), ("get", "/instruments")]


def call(client, method, path, headers):  # type: ignore[no-untyped-def]
    if method == "get":
        return client.get(f"/api/v1{path}", headers=headers)
    return client.post(f"/api/v1{path}", json=VALID_DOSSIER, headers=headers)


BAD_HEADERS = [None, "Bearer", "Bearer ", "Basic abc", "Bearer sipas_x_y", "Bearer nonsense",
               "Bearer sipas_" + "a" * 5000]


def test_missing_or_wrong_keys_are_401(api: Api):
    for method, path in ENDPOINTS:
        for header in BAD_HEADERS:
            headers = {"Authorization": header} if header is not None else {}
            response = call(api.client, method, path, headers)
            assert response.status_code == 401, (method, path, header)
            assert response.json["error"]["code"] == "unauthorized"
            assert response.json["error"]["message"].startswith("Thiếu hoặc sai khóa truy cập")


def test_a_revoked_key_is_401(api: Api, session):
    assert api.get("/instruments").status_code == 200
    key = session.scalar(select(ApiKey))
    key.revoked_at = datetime.now(UTC)
    session.commit()
    assert api.get("/instruments").status_code == 401
    assert api.post("/dossiers", VALID_DOSSIER).status_code == 401


def test_a_key_with_a_wrong_secret_is_401(api: Api):
    prefix = api.key.split("_")[1]
    wrong = Api(api.client, f"sipas_{prefix}_{'x' * 32}")
    assert wrong.post("/dossiers", VALID_DOSSIER).status_code == 401


NOT_AN_OBJECT = [
    (b"", 400, "invalid_json"),
    (b"{", 400, "invalid_json"),
    (b"code=HS-1", 400, "invalid_json"),
    (b"\xff\xfe{}", 400, "invalid_json"),
    (b'{"code": NaN}', 400, "invalid_json"),
    (b"[" * 100000 + b"]" * 100000, 400, "invalid_json"),
    (b"[]", 422, "invalid"),
    (b"[1, 2]", 422, "invalid"),
    (b"42", 422, "invalid"),
    (b'"HS-1"', 422, "invalid"),
    (b"null", 422, "invalid"),
    (b"true", 422, "invalid"),
]


def test_bodies_that_are_not_a_json_object(api: Api):
    for path in ("/dossiers", "/responses"):
        for raw, status, code in NOT_AN_OBJECT:
            response = api.client.post(f"/api/v1{path}", data=raw,
                                       headers=api.headers(**{"Content-Type": "application/json"}))
            assert (response.status_code, response.json["error"]["code"]) == (status, code), (path, raw[:20])
            if status == 422:
                assert response.json["error"]["field"] == "body"


def test_a_body_without_content_type_is_still_read_as_json(api: Api):
    response = api.client.post("/api/v1/dossiers", data=json.dumps(VALID_DOSSIER), headers=api.headers())
    assert response.status_code == 201


INVALID_DOSSIER_FIELDS = [
    ({"code": None}, "code"),
    ({"code": ""}, "code"),
    ({"code": 12345}, "code"),
    ({"code": "x" * 65}, "code"),
    ({"code": ["HS-1"]}, "code"),
    ({"received_at": None}, "received_at"),
    ({"received_at": 45000}, "received_at"),
    ({"received_at": "05/01/2026"}, "received_at"),
    ({"received_at": "2026-01-05T09:00:00"}, "received_at"),
    ({"received_at": "2026-02-30"}, "received_at"),
    ({"received_at": "1890-01-01"}, "received_at"),
    ({"received_at": "x" * 100000}, "received_at"),
    ({"due_at": "2026-01-01"}, "due_at"),
    ({"returned_at": "2026-01-04T23:59:00+07:00"}, "returned_at"),
    ({"intake_channel": "fax"}, "intake_channel"),
    ({"intake_channel": {"code": "direct"}}, "intake_channel"),
    ({"intake_channel": 3}, "intake_channel"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "+442071838750"}, "phone"),
    ({"phone": 912345678}, "phone"),
    ({"sms_consent": "maybe"}, "sms_consent"),
    ({"sms_consent": 7}, "sms_consent"),
    ({"sms_consent": [True]}, "sms_consent"),
    ({"procedure": "x" * 501}, "procedure"),
    ({"field": {"a": 1}}, "field"),
    ({"sms_consent_method": 1}, "sms_consent_method"),
    ({"sms_consent_at": "yesterday"}, "sms_consent_at"),
    ({"unit": 7}, "unit"),
    ({"code": "HS\x00-1"}, "code"),
    ({"procedure": "Khai sinh\ud800"}, "procedure"),
    ({"phone": "0912\x00345678"}, "phone"),
    ({"intake_channel": "direct\x00"}, "intake_channel"),
    ({"received_at": "2026-01-05\x00"}, "received_at"),
]


def test_invalid_dossier_fields_are_422_with_the_field(api: Api, session):
    for change, field in INVALID_DOSSIER_FIELDS:
        response = api.post("/dossiers", {**VALID_DOSSIER, **change})
        assert response.status_code == 422, (change, response.json)
        assert response.json["error"]["code"] == "invalid"
        assert response.json["error"]["field"] == field, change
        assert not response.json["error"]["message"].isascii()
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_control_characters_in_a_path_are_422(api: Api):
    for path in ("/dossiers/HS%00X", "/dossiers/HS-1?unit=P%00X", "/dossiers/" + "x" * 65):
        response = api.get(path)
        assert response.status_code == 422, path
        assert response.json["error"]["field"] in ("code", "unit")


def test_received_at_is_required_only_on_create(api: Api):
    response = api.post("/dossiers", {"code": "HS-MOI", "returned_at": "2026-01-07"})
    assert response.status_code == 422 and response.json["error"]["field"] == "received_at"
    api.post("/dossiers", {**VALID_DOSSIER, "code": "HS-MOI"})
    assert api.post("/dossiers", {"code": "HS-MOI", "returned_at": "2026-01-07"}).status_code == 200


def test_unknown_fields_are_ignored(api: Api):
    response = api.post("/dossiers", {**VALID_DOSSIER, "ho_ten": "Nguyễn Văn A", "extra": [1, {"x": None}]})
    assert response.status_code == 201
    assert "ho_ten" not in response.json


def test_unknown_paths_and_methods_answer_json(api: Api):
    for method, path in [("get", "/api/v1/khong-co"), ("post", "/api/v1/instruments"),
                         ("delete", "/api/v1/dossiers/HS-1"), ("put", "/api/v1/responses")]:
        response = getattr(api.client, method)(path, headers=api.headers())
        assert response.status_code in (404, 405), (method, path)
        assert response.json["error"]["code"] in ("not_found", "method_not_allowed")


# st.text() never draws lone surrogates (they are not valid UTF-8); clients can still send them as \ud800.
ODD_TEXT = st.text(max_size=30) | st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=3)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ODD_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ODD_TEXT, children, max_size=4),
    max_leaves=12,
)
FIELDS = ["code", "procedure", "field", "intake_channel", "received_at", "due_at", "returned_at", "phone",
          "sms_consent", "sms_consent_at", "sms_consent_method", "sms_consent_wording_version", "unit",
          "instrument", "channel", "dossier_code", "submitted_at", "answers", "comment", "idempotency_key"]
PLAUSIBLE = st.sampled_from(["HS-1", "hue12", "quay4", "2026-01-05", "2026-01-05T09:00:00+07:00", "paper", "direct",
                             "0912345678", "có", "na", "P-THUANHOA", {"q1": "hai_long"}, None, True, 0, "",
                             "\x00", "HS\ud800", 1e308, -(2**70)])
ANSWERS = st.dictionaries(st.sampled_from(["q1", "q2", "tc01"]) | ODD_TEXT, ODD_TEXT | PLAUSIBLE, max_size=4)
BODIES = JSON_VALUES | st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | PLAUSIBLE | ANSWERS,
                                       max_size=len(FIELDS))


@pytest.mark.parametrize("path", ["/dossiers", "/responses"])
def test_arbitrary_json_never_produces_a_500(api: Api, path):
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(BODIES)
    def post_anything(body):  # type: ignore[no-untyped-def]
        response = api.post(path, body)
        assert response.status_code in (200, 201, 400, 403, 404, 409, 422), (body, response.json)
        payload = response.json
        if response.status_code >= 400:
            assert set(payload["error"]) >= {"code", "message"}

    post_anything()


def test_writes_record_when_a_key_was_last_used_and_reads_do_not_write(api: Api, session):
    api.get("/instruments")
    assert session.scalar(select(ApiKey.last_used_at)) is None
    session.commit()
    assert api.post("/dossiers", VALID_DOSSIER).status_code == 201
    assert session.scalar(select(ApiKey.last_used_at)) is not None
