"""POST /api/v1/responses: stored once per dossier and instrument, precise errors otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sipas.models import Answer, AuditEvent, Response
from tests.api.conftest import Api
from tests.factories import answers_for, create_district_with_wards, create_dossier, create_key, local
from tests.statement_support import selects


@pytest.fixture
def dossier(session, ward):
    made = create_dossier(session, ward, code="HS-DANHGIA", received_at=local(2026, 1, 5), due_at=local(2026, 1, 8),
                          returned_at=local(2026, 1, 7))
    session.commit()
    return made


def quay4(**extra):
    return {"instrument": "quay4", "channel": "api", "dossier_code": "HS-DANHGIA",
            "submitted_at": "2026-01-07T16:00:00+07:00",
            "answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"},
            "comment": "Cán bộ hướng dẫn tận tình.", **extra}


def test_a_response_is_stored_and_returned_with_201(api: Api, dossier, session):
    response = api.post("/responses", quay4())
    assert response.status_code == 201, response.json
    body = response.json
    assert body == {
        "id": body["id"], "unit": "P-THUANHOA", "dossier_code": "HS-DANHGIA", "instrument": "quay4",
        "version": "2018.1", "channel": "api", "submitted_at": "2026-01-07T16:00:00+07:00",
        "answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"},
        "comment": "Cán bộ hướng dẫn tận tình.",
    }
    stored = session.get(Response, body["id"])
    assert [(a.criterion_code, a.points) for a in stored.answers] == [("q1", 2), ("q2", 1), ("q3", 2), ("q4", 0)]
    assert stored.source.startswith("api:")
    status = {r["instrument"]: r["rated"] for r in api.get("/dossiers/HS-DANHGIA").json["ratings"]}
    assert status == {"hue12": False, "quay4": True, "tt01_2018": False}


def test_a_second_response_for_the_same_dossier_and_instrument_is_409_already_rated(api: Api, dossier, session,
                                                                                    catalogue):
    assert api.post("/responses", quay4()).status_code == 201
    second = api.post("/responses", quay4(answers={"q1": "khong_hai_long", "q2": "hai_long", "q3": "dung_hen",
                                                   "q4": "don_gian"}))
    assert second.status_code == 409
    assert second.json["error"]["code"] == "already_rated"
    assert second.json["error"]["message"] == "Hồ sơ này đã được đánh giá. Xin cảm ơn ông/bà."
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "response.duplicate_refused")).all()
    assert len(refused) == 1 and refused[0].subject == "HS-DANHGIA" and refused[0].actor.startswith("apikey:")
    other_instrument = api.post("/responses", {**quay4(), "instrument": "hue12",
                                               "answers": answers_for(catalogue, "hue12")})
    assert other_instrument.status_code == 201


def test_not_applicable_is_stored_as_na_where_allowed(api: Api, dossier, catalogue):
    answers = answers_for(catalogue, "hue12")
    answers["tc12"] = "na"
    response = api.post("/responses", {"instrument": "hue12", "dossier_code": "HS-DANHGIA", "answers": answers})
    assert response.status_code == 201, response.json
    assert response.json["answers"]["tc12"] == "na"
    assert response.json["channel"] == "api"  # the default channel


def test_paper_ballots_need_no_dossier(api: Api, session):
    body = quay4(channel="Phiếu giấy", dossier_code=None)
    first, second = api.post("/responses", body), api.post("/responses", body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["dossier_code"] is None and first.json["channel"] == "paper"


def test_channel_accepts_codes_and_labels(api: Api, session, ward):
    channels = [("kiosk", "kiosk"), ("phieu giay", "paper"), ("Tin nhắn", "sms"), ("QR", "qr"), ("API", "api")]
    for number, (given, stored) in enumerate(channels):
        create_dossier(session, ward, code=f"HS-KENH-{number}", received_at=local(2026, 1, 5),
                       returned_at=local(2026, 1, 7))
        session.commit()
        response = api.post("/responses", quay4(channel=given, dossier_code=f"HS-KENH-{number}"))
        assert (response.status_code, response.json["channel"]) == (201, stored), given


INVALID_RESPONSES = [
    ({"dossier_code": "KHONG-CO"}, 404, "unknown_dossier", "dossier_code"),
    ({"dossier_code": None}, 422, "dossier_required", "dossier_code"),
    ({"instrument": "hue13"}, 422, "unknown_instrument", "instrument"),
    ({"instrument": None}, 422, "invalid", "instrument"),
    ({"channel": "fax"}, 422, "invalid", "channel"),
    ({"answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen"}}, 422, "missing_answer", "answers.q4"),
    ({"answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": None}}, 422, "missing_answer",
     "answers.q4"),
    ({"answers": {"q1": "tuyet_voi", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"}}, 422, "unknown_option",
     "answers.q1"),
    ({"answers": {"q1": "na", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"}}, 422,
     "not_applicable_refused", "answers.q1"),
    ({"answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap", "q9": "x"}}, 422,
     "unknown_criterion", "answers.q9"),
    ({"answers": {"q1": 2, "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"}}, 422, "invalid", "answers.q1"),
    ({"answers": ["rat_hai_long"]}, 422, "invalid", "answers"),
    ({"answers": None}, 422, "invalid", "answers"),
    ({"submitted_at": "2099-01-01T00:00:00+07:00"}, 422, "invalid", "submitted_at"),
    ({"submitted_at": "07/01/2026"}, 422, "invalid", "submitted_at"),
    ({"submitted_at": "2026-01-07T16:00:00"}, 422, "invalid", "submitted_at"),
    ({"comment": "x" * 2001}, 422, "invalid", "comment"),
    ({"comment": 5}, 422, "invalid", "comment"),
    ({"comment": "Tốt\x00"}, 422, "invalid", "comment"),
    ({"dossier_code": "HS-DANHGIA\x00"}, 422, "invalid", "dossier_code"),
    ({"idempotency_key": "k\ud800"}, 422, "invalid", "idempotency_key"),
    ({"unit": "KHONG-CO"}, 403, "forbidden", None),
    ({"unit": ["P-THUANHOA"]}, 422, "invalid", "unit"),
]


def test_invalid_responses_name_the_field_at_fault(api: Api, dossier, session):
    for change, status, code, field in INVALID_RESPONSES:
        response = api.post("/responses", quay4(**change))
        assert response.status_code == status, (change, response.json)
        error = response.json["error"]
        assert (error["code"], error.get("field")) == (code, field), change
        assert error["message"] and not error["message"].isascii()  # a Vietnamese sentence for people
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_dossier_not_yet_returned_cannot_be_rated(api: Api, session, ward):
    create_dossier(session, ward, code="HS-DANGXULY", returned=False)
    session.commit()
    response = api.post("/responses", quay4(dossier_code="HS-DANGXULY"))
    assert response.status_code == 422 and response.json["error"]["code"] == "not_returned"


def test_an_idempotency_key_replays_the_stored_response(api: Api, dossier, session):
    first = api.post("/responses", quay4(idempotency_key="portal-42"))
    replay = api.post("/responses", quay4(idempotency_key="portal-42"))
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json == first.json
    header_first = api.post("/responses", quay4(channel="paper", dossier_code=None), **{"Idempotency-Key": "giay-7"})
    header_replay = api.post("/responses", quay4(channel="paper", dossier_code=None), **{"Idempotency-Key": "giay-7"})
    assert (header_first.status_code, header_replay.status_code) == (201, 200)
    assert header_replay.json["id"] == header_first.json["id"]
    assert session.scalar(select(func.count()).select_from(Response)) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "response.duplicate_refused")) == 0


def test_a_resend_replays_even_when_its_checks_would_now_fail(api: Api, dossier, session):
    """The key is not looked up before the checks (the insert finds it): a resend that the checks would now
    refuse, here because the dossier's return was undone meanwhile, still gets the stored response."""
    first = api.post("/responses", quay4(idempotency_key="portal-43"))
    assert first.status_code == 201, first.json
    dossier.returned_at = None
    session.commit()
    replay = api.post("/responses", quay4(idempotency_key="portal-43"))
    assert replay.status_code == 200 and replay.json == first.json
    other_key = api.post("/responses", quay4(idempotency_key="portal-44"))
    assert other_key.status_code == 422 and other_key.json["error"]["code"] == "not_returned"


REFUSED_BODIES = {  # each fails the view's own field checks (422), before any rule about the dossier
    "answers_as_a_list": {"answers": [["q1", "hai_long"]]},
    "comment_as_a_number": {"comment": 7},
    "no_instrument": {"instrument": None},
    "channel_as_a_list": {"channel": ["api"]},
    "submitted_at_not_iso": {"submitted_at": "hôm qua"},
    "unit_as_a_number": {"unit": 5},
}


@pytest.mark.parametrize("change", REFUSED_BODIES.values(), ids=REFUSED_BODIES.keys())
@pytest.mark.parametrize("by_header", [True, False], ids=["header", "field"])
def test_a_resend_with_a_known_key_replays_whatever_the_body_holds(api: Api, dossier, session, change, by_header):
    """docs/api.md: "a resend with a known key answers 200 with the response stored the first time, whatever the new
    body holds" — its field checks included, not only the rules checked against the stored dossier."""
    key = {"Idempotency-Key": "portal-45"} if by_header else {}
    first = api.post("/responses", quay4(**({} if by_header else {"idempotency_key": "portal-45"})), **key)
    assert first.status_code == 201, first.json
    resend = quay4(**change, **({} if by_header else {"idempotency_key": "portal-45"}))
    replay = api.post("/responses", resend, **key)
    assert (replay.status_code, replay.json) == (200, first.json)
    unknown = api.post("/responses", quay4(**change, idempotency_key="portal-46"), **{"Idempotency-Key": "portal-46"})
    assert unknown.status_code == 422  # an unknown key: the field's refusal stands
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_a_known_header_key_replays_a_body_that_is_not_even_an_object(api: Api, dossier):
    first = api.post("/responses", quay4(), **{"Idempotency-Key": "portal-47"})
    assert first.status_code == 201, first.json
    for body, content_type in (("{not json", "application/json"), ("[1, 2]", "application/json")):
        replay = api.client.post("/api/v1/responses", data=body, content_type=content_type,
                                 headers=api.headers(**{"Idempotency-Key": "portal-47"}))
        assert (replay.status_code, replay.json) == (200, first.json)


def test_a_refused_resend_keeps_the_key_s_scope(api: Api, client, dossier, session, ward):
    """Another API key's identical key is another client's: its refused body is refused, not answered with this
    client's response; a district key's key is scoped to the ward it named."""
    first = api.post("/responses", quay4(), **{"Idempotency-Key": "portal-48"})
    assert first.status_code == 201, first.json
    other = Api(client, create_key(session, ward))
    session.commit()
    refused = other.post("/responses", quay4(comment=7), **{"Idempotency-Key": "portal-48"})
    assert refused.status_code == 422 and refused.json["error"]["field"] == "comment"

    district, wards = create_district_with_wards(session, wards=2)
    create_dossier(session, wards[1], code="HS-PHUONG", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    district_api = Api(client, create_key(session, district))
    session.commit()
    in_ward = quay4(dossier_code="HS-PHUONG", unit=wards[1].code)
    stored = district_api.post("/responses", in_ward, **{"Idempotency-Key": "quan-1"})
    assert stored.status_code == 201 and stored.json["unit"] == wards[1].code, stored.json
    found_by_dossier = district_api.post("/responses", quay4(dossier_code="HS-PHUONG", answers=[]),
                                         **{"Idempotency-Key": "quan-1"})
    assert (found_by_dossier.status_code, found_by_dossier.json) == (200, stored.json)
    other_ward = district_api.post("/responses", quay4(dossier_code=None, unit=wards[0].code, answers=[]),
                                   **{"Idempotency-Key": "quan-1"})
    assert other_ward.status_code == 422 and other_ward.json["error"]["field"] == "answers"


def test_a_refused_body_without_a_key_costs_no_lookup(app, api: Api, dossier):
    seen, stop = selects(app)
    try:
        refused = api.post("/responses", quay4(answers=[["q1", "hai_long"]]))
    finally:
        stop()
    assert refused.status_code == 422
    assert len(seen) == 1 and "FROM api_key" in seen[0], seen  # the key (with the dossier), nothing more


def test_a_date_alone_as_submitted_at_is_a_local_date(api: Api, dossier, session):
    response = api.post("/responses", quay4(submitted_at="2026-01-07"))
    assert response.json["submitted_at"] == "2026-01-07T00:00:00+07:00"
    assert session.scalar(select(func.count()).select_from(Answer)) == 4
