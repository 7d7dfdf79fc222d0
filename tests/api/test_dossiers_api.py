"""POST /api/v1/dossiers and GET /api/v1/dossiers/<code>: the contract the one-stop system relies on."""

from __future__ import annotations

import logging

from sqlalchemy import select

from sipas.api import dossiers as dossier_api
from sipas.clock import utcnow
from sipas.dossiers import erase_contact
from sipas.models import AuditEvent, Dossier, DossierContact, IntakeChannel
from tests.api.conftest import Api
from tests.factories import create_dossier, create_response, local

RECEIVED = {
    "code": "000.00.20.H57-260105-0001",
    "procedure": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "intake_channel": "direct",
    "received_at": "2026-01-05T09:00:00+07:00",
    "due_at": "2026-01-08T17:00:00+07:00",
    "phone": "0912 345 678",
    "sms_consent": True,
}


def test_create_answers_201_with_the_dossier_and_a_masked_phone(api: Api):
    response = api.post("/dossiers", RECEIVED)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["code"] == RECEIVED["code"]
    assert body["unit"] == "P-THUANHOA"
    assert body["procedure"] == "Đăng ký khai sinh"
    assert body["field"] == "Hộ tịch"
    assert body["intake_channel"] == "direct"
    assert body["intake_channel_label"] == "Trực tiếp"
    assert body["received_at"] == "2026-01-05T09:00:00+07:00"
    assert body["due_at"] == "2026-01-08T17:00:00+07:00"
    assert body["returned_at"] is None
    assert body["timeliness"] == "in_progress_overdue"  # due in January, still not returned today
    assert body["timeliness_label"] == "Đang giải quyết quá hạn"
    assert body["phone"] == "+8491*****78"
    assert "912345678" not in response.get_data(as_text=True)
    assert body["sms_consent"] is True
    assert body["sms_consent_method"] == "api"
    assert [r["instrument"] for r in body["ratings"]] == ["hue12", "quay4", "tt01_2018"]
    assert all(r == {"instrument": r["instrument"], "rated": False, "version": None, "channel": None,
                     "submitted_at": None} for r in body["ratings"])


def test_a_later_call_with_only_code_and_returned_at_updates_and_keeps_the_rest(api: Api, session):
    assert api.post("/dossiers", RECEIVED).status_code == 201
    response = api.post("/dossiers", {"code": RECEIVED["code"], "returned_at": "2026-01-07T15:30:00+07:00"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["returned_at"] == "2026-01-07T15:30:00+07:00"
    assert body["timeliness"] == "early"
    assert body["procedure"] == "Đăng ký khai sinh"
    assert body["due_at"] == "2026-01-08T17:00:00+07:00"
    assert body["phone"] == "+8491*****78"
    assert body["sms_consent"] is True
    dossier = session.scalar(select(Dossier).where(Dossier.code == RECEIVED["code"]))
    assert dossier.returned_local_date.isoformat() == "2026-01-07"
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.subject == RECEIVED["code"])
                                   .order_by(AuditEvent.id)))
    assert actions == ["dossier.created", "dossier.updated"]
    actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.subject == RECEIVED["code"])))
    assert len(actors) == 1 and actors.pop().startswith("apikey:")


def test_posting_the_same_dossier_again_changes_nothing(api: Api, session):
    api.post("/dossiers", RECEIVED)
    again = api.post("/dossiers", RECEIVED)
    assert again.status_code == 200
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject == RECEIVED["code"])).all()
    assert [e.action for e in events] == ["dossier.created"]
    assert all("912345678" not in str(e.details) for e in events)


def test_null_clears_a_date_but_absent_keeps_it(api: Api):
    api.post("/dossiers", {**RECEIVED, "returned_at": "2026-01-07T10:00:00+07:00"})
    kept = api.post("/dossiers", {"code": RECEIVED["code"], "field": "Chứng thực"})
    assert kept.json["returned_at"] == "2026-01-07T10:00:00+07:00" and kept.json["field"] == "Chứng thực"
    cleared = api.post("/dossiers", {"code": RECEIVED["code"], "returned_at": None})
    assert cleared.status_code == 200 and cleared.json["returned_at"] is None


INTAKE_CHANNELS = [
    ("direct", IntakeChannel.DIRECT),
    ("Trực tiếp", IntakeChannel.DIRECT),
    ("truc tiep", IntakeChannel.DIRECT),
    ("Trực tuyến một phần", IntakeChannel.ONLINE_PARTIAL),
    ("Mức độ 3", IntakeChannel.ONLINE_PARTIAL),
    ("TRUC TUYEN TOAN TRINH", IntakeChannel.ONLINE_FULL),
    ("online_full", IntakeChannel.ONLINE_FULL),
    ("Dịch vụ bưu chính công ích", IntakeChannel.POSTAL),
    ("buu chinh", IntakeChannel.POSTAL),
]
CONSENTS = [(True, True), (False, False), ("có", True), ("Đồng ý", True), ("khong", False), ("không", False),
            (1, True)]


def test_intake_channel_accepts_codes_and_labels_with_or_without_diacritics(api: Api):
    for number, (given, stored) in enumerate(INTAKE_CHANNELS):
        response = api.post("/dossiers", {**RECEIVED, "code": f"HS-KENH-{number}", "intake_channel": given})
        assert response.status_code == 201, (given, response.json)
        assert response.json["intake_channel"] == stored.value, given


def test_sms_consent_accepts_booleans_and_vietnamese_words(api: Api):
    for number, (given, consent) in enumerate(CONSENTS):
        response = api.post("/dossiers", {**RECEIVED, "code": f"HS-DONGY-{number}", "sms_consent": given})
        assert response.status_code == 201, (given, response.json)
        assert response.json["sms_consent"] is consent, given


def test_consent_record_keeps_when_and_how_it_was_given(api: Api, session):
    body = {**RECEIVED, "sms_consent_at": "2026-01-05T09:05:00+07:00", "sms_consent_method": "paper_form",
            "sms_consent_wording_version": "2026.1"}
    response = api.post("/dossiers", body)
    assert response.json["sms_consent_at"] == "2026-01-05T09:05:00+07:00"
    contact = session.scalar(select(DossierContact))
    assert contact.phone_e164 == "+84912345678"
    assert (contact.consent_method, contact.consent_wording_version) == ("paper_form", "2026.1")


def test_dates_alone_are_local_dates(api: Api):
    response = api.post("/dossiers", {"code": "HS-NGAY", "received_at": "2026-01-05", "due_at": "2026-01-08"})
    assert response.status_code == 201, response.json
    assert response.json["received_at"] == "2026-01-05T00:00:00+07:00"
    assert response.json["due_at"] == "2026-01-08T00:00:00+07:00"
    returned = api.post("/dossiers", {"code": "HS-NGAY", "returned_at": "2026-01-08"})
    assert returned.json["timeliness"] == "on_time"


def test_returned_date_alone_on_the_day_of_receipt_is_not_before_receipt(api: Api):
    response = api.post("/dossiers", {"code": "HS-TRONGNGAY", "received_at": "2026-01-05T09:00:00+07:00",
                                      "due_at": "2026-01-05", "returned_at": "2026-01-05"})
    assert response.status_code == 201, response.json
    assert response.json["returned_at"] == "2026-01-05T09:00:00+07:00"
    assert response.json["timeliness"] == "on_time"


def test_utc_offsets_are_converted_to_local_days(api: Api):
    # 18:00 UTC on the 7th is 01:00 on the 8th in Hà Nội: returned on the due date, on time.
    body = {"code": "HS-UTC", "received_at": "2026-01-05T02:00:00Z", "due_at": "2026-01-08",
            "returned_at": "2026-01-07T18:00:00Z"}
    response = api.post("/dossiers", body)
    assert response.json["returned_at"] == "2026-01-08T01:00:00+07:00"
    assert response.json["timeliness"] == "on_time"


def test_get_shows_the_dossier_its_timeliness_and_rating_status(api: Api, session, ward, catalogue):
    dossier = create_dossier(session, ward, code="HS-XEM", received_at=local(2026, 1, 5), due_at=local(2026, 1, 8),
                             returned_at=local(2026, 1, 9), phone="+84987654321", sms_consent=True)
    create_response(session, catalogue, ward, dossier=dossier, instrument="quay4", now=local(2026, 1, 9, 10))
    session.commit()
    response = api.get("/dossiers/HS-XEM")
    assert response.status_code == 200
    body = response.json
    assert body["timeliness"] == "late" and body["timeliness_label"] == "Quá hạn"
    assert body["phone"] == "+8498*****21"
    ratings = {r["instrument"]: r for r in body["ratings"]}
    assert ratings["quay4"] == {"instrument": "quay4", "rated": True, "version": "2018.1", "channel": "kiosk",
                                "submitted_at": "2026-01-09T10:00:00+07:00"}
    assert ratings["hue12"]["rated"] is False and ratings["tt01_2018"]["rated"] is False


def test_get_of_an_unknown_dossier_is_404(api: Api):
    response = api.get("/dossiers/KHONG-CO")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_dossier"
    assert response.json["error"]["message"] == "Không tìm thấy hồ sơ với mã này."


def test_dossier_codes_may_contain_slashes(api: Api):
    assert api.post("/dossiers", {"code": "12/2026/HT", "received_at": "2026-01-05"}).status_code == 201
    assert api.get("/dossiers/12/2026/HT").json["code"] == "12/2026/HT"


def test_extenders_add_their_fields_to_the_dossier_json(api: Api, monkeypatch):
    monkeypatch.setattr(dossier_api, "DOSSIER_JSON_EXTENDERS",
                        [lambda session, dossier: {"invitations": [{"dossier": dossier.code}]}])
    api.post("/dossiers", RECEIVED)
    assert api.get(f"/dossiers/{RECEIVED['code']}").json["invitations"] == [{"dossier": RECEIVED["code"]}]


def test_an_erased_phone_is_not_brought_back_and_is_reported_as_erased(api: Api, session):
    api.post("/dossiers", RECEIVED)
    erase_contact(session, session.scalar(select(Dossier)), now=utcnow(), actor="test")
    session.commit()
    body = api.post("/dossiers", RECEIVED).json
    assert body["phone"] is None and body["phone_erased"] is True and body["sms_consent"] is False


def test_iso_8601_variants_with_an_offset_are_accepted(api: Api):
    same_instant = ["2026-01-05T09:30:00+07:00", "2026-01-05 09:30+07:00", "2026-01-05T02:30:00Z",
                    "2026-01-05T02:30:00.000z", "2026-01-05T09:30:00+0700", "2026-01-05T09:30+07"]
    for number, value in enumerate(same_instant):
        response = api.post("/dossiers", {"code": f"HS-ISO-{number}", "received_at": value})
        assert response.status_code == 201, (value, response.json)
        assert response.json["received_at"] == "2026-01-05T09:30:00+07:00", value


def test_logs_and_audit_never_hold_the_phone_number_or_comments(api: Api, session, caplog):
    caplog.set_level(logging.DEBUG)
    api.post("/dossiers", {**RECEIVED, "returned_at": "2026-01-07T10:00:00+07:00"})
    api.post("/dossiers", {**RECEIVED, "phone": "0912 345 67x"})
    api.post("/responses", {"instrument": "quay4", "dossier_code": RECEIVED["code"], "comment": "Bí mật riêng tư",
                            "answers": {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}})
    api.get(f"/dossiers/{RECEIVED['code']}")
    details = " ".join(str((e.details, e.subject)) for e in session.scalars(select(AuditEvent)))
    for secret in ("912345678", "912 345", "Bí mật"):
        assert secret not in caplog.text and secret not in details


def test_a_rated_dossier_is_not_returned_after_its_first_rating(api: Api, session, ward, catalogue):
    """The same rule as the file import: a rating needs the result returned, so the return day of a rated dossier
    cannot move past its first rating (it was accepted: 200)."""
    dossier = create_dossier(session, ward, code="R1", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    create_response(session, catalogue, ward, dossier=dossier, instrument="quay4", submitted_at=local(2026, 1, 8))
    session.commit()
    moved = api.post("/dossiers", {"code": "R1", "returned_at": "2026-02-20T09:00:00+07:00"})
    assert moved.status_code == 422 and moved.json["error"]["field"] == "returned_at"
    assert "08/01/2026" in moved.json["error"]["message"]
    assert api.post("/dossiers", {"code": "R1", "returned_at": "2026-01-06T09:00:00+07:00"}).status_code == 200


def test_a_field_sent_with_decomposed_marks_is_the_field_the_reports_know(api: Api):
    """A one-stop system sending "Hộ tịch" as decomposed marks (Unikey's "Unicode tổ hợp", a Mac) stored it so:
    the Biểu II.06a then had two "Hộ tịch" rows splitting the field's figures, and the field filter (read as NFC,
    the form the imports store) left the decomposed dossiers out. Text is stored composed (NFC)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Hộ tịch")
    for number, field in enumerate(("Hộ tịch", decomposed), start=1):
        body = RECEIVED | {"code": f"HS-NFD-{number}", "field": field, "procedure": unicodedata.normalize(
            "NFD", "Đăng ký khai sinh"), "returned_at": "2026-01-07T10:00:00+07:00"}
        created = api.post("/dossiers", body)
        assert created.status_code == 201, created.json
        assert created.json["field"] == "Hộ tịch" and created.json["procedure"] == "Đăng ký khai sinh"
    report = api.get("/reports?quarter=2026Q1").json
    assert [(row["field"], row["resolved"]) for row in report["fields"]] == [("Hộ tịch", 2), ("Tổng cộng", 2)]
    by_field = api.get("/reports", query_string={"quarter": "2026Q1", "field": "Hộ tịch"}).json
    assert by_field["dossiers"]["resolved"] == 2
