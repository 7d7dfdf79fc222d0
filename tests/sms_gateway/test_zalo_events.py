"""``POST /zalo/events``: signature (secret and order are settings), stale timestamps, de-duplication,
delivery marking the invitation delivered (and resolving an ambiguous send), console notices."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import InboundDelivery, Invitation, InvitationStatus, MessageStatus, OutboundMessage
from sms_gateway.models_zalo import ZaloNotice
from sms_gateway.sending import run_cycle
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import PHONE, RecordingProvider
from tests.sms_gateway.zalo_support import grant, provider_at, zalo_settings, zalo_unit_options
from tests.sms_gateway.zns_mock import APP_SECRET, ZnsMock, zns  # noqa: F401  (fixture)

NOW = local(2026, 1, 7, 10, 0)


@pytest.fixture
def settings(database_url, tmp_path, zns):  # noqa: F811
    zns.now = NOW
    zns.phones.add("84912345678")
    return zalo_settings(database_url, tmp_path, zns)


@pytest.fixture
def invited(app, session, settings, zns):  # noqa: F811
    """One invitation sent through Zalo; its msg_id."""
    database = get_database(app)
    unit = create_unit(session, options=zalo_unit_options())
    create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=PHONE,
                   intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    grant(database, zns, NOW)
    run_cycle(database, settings, now=NOW, provider=RecordingProvider(), zalo=provider_at(database, settings, NOW))
    return zns.messages[-1]["msg_id"] if zns.messages else None


def post(client, event):
    body, headers = event
    return client.post("/zalo/events", data=body, headers=headers)


def invitation(session) -> Invitation:
    session.commit()
    session.expire_all()
    return session.scalars(select(Invitation)).one()


def test_the_delivery_event_marks_the_invitation_delivered_once(client, session, zns, invited):  # noqa: F811
    event = zns.delivery_event(invited)
    started = time.monotonic()
    answer = post(client, event)
    assert answer.status_code == 200 and answer.json == {"ok": True}
    assert time.monotonic() - started < 2  # Zalo retries an answer slower than 2 s
    assert invitation(session).status is InvitationStatus.DELIVERED
    row = session.scalars(select(OutboundMessage)).one()
    assert row.status is MessageStatus.DELIVERED and row.sid == invited
    assert post(client, event).json == {"ok": True, "duplicate": True}  # Zalo's retry after 30 s
    assert session.scalar(select(func.count()).select_from(InboundDelivery)) == 1


def test_a_wrong_or_missing_signature_is_refused(client, session, zns, invited):  # noqa: F811
    body, headers = zns.delivery_event(invited, secret="not-the-secret")
    answer = client.post("/zalo/events", data=body, headers=headers)
    assert answer.status_code == 403 and answer.json["error"] == "bad_signature"
    assert "Chữ ký" in answer.json["message"]
    good_body, good_headers = zns.delivery_event(invited)
    tampered = good_body.replace(b"user_received_message", b"user_received_messagX")
    assert client.post("/zalo/events", data=tampered, headers=good_headers).status_code == 403
    assert client.post("/zalo/events", data=good_body, headers={}).status_code == 403
    assert invitation(session).status is InvitationStatus.SENT


def test_a_stale_timestamp_is_refused(client, zns, invited):  # noqa: F811
    old = datetime.now(UTC) - timedelta(hours=2)
    answer = post(client, zns.delivery_event(invited, timestamp=old))
    assert answer.status_code == 403 and answer.json["error"] == "stale_timestamp"


def test_the_header_may_come_without_mac_prefix(client, session, zns, invited):  # noqa: F811
    body, headers = zns.delivery_event(invited)
    headers["X-ZEvent-Signature"] = headers["X-ZEvent-Signature"].removeprefix("mac=").upper()
    assert client.post("/zalo/events", data=body, headers=headers).status_code == 200
    assert invitation(session).status is InvitationStatus.DELIVERED


@pytest.fixture
def app_secret_oa_first(database_url, tmp_path, zns):  # noqa: F811
    from sipas.app import create_app

    settings = zalo_settings(database_url, tmp_path, zns, SIPAS_ZALO_SIGNATURE_SECRET="app",
                             SIPAS_ZALO_SIGNATURE_ORDER="oa_id")
    application = create_app(settings)
    yield application.test_client()
    get_database(application).dispose()


def test_which_secret_and_which_id_first_are_settings(app_secret_oa_first, zns):  # noqa: F811
    event = {"event_name": "change_template_status", "template_id": "236719",
             "status": {"prev_status": "PENDING_REVIEW", "new_status": "ENABLE"}}
    assert post(app_secret_oa_first, zns.signed_event(event)).status_code == 403  # OA secret, app id first
    answer = post(app_secret_oa_first, zns.signed_event(event, secret=APP_SECRET, first="oa_id"))
    assert answer.status_code == 200


def test_template_status_and_quota_changes_become_console_notices(client, session, zns):  # noqa: F811
    post(client, zns.signed_event({"event_name": "change_template_status", "template_id": "236719",
                                   "status": {"prev_status": "ENABLE", "new_status": "DISABLE"},
                                   "reason": "Chất lượng thấp"}))
    post(client, zns.signed_event({"event_name": "change_oa_daily_quota", "dailyQuota": "1000"}))
    session.commit()
    notices = session.scalars(select(ZaloNotice).order_by(ZaloNotice.id)).all()
    assert [n.kind for n in notices] == ["template_status", "quota"]
    assert notices[0].message == "Mẫu tin Zalo 236719: ENABLE → DISABLE (lý do: Chất lượng thấp)"
    assert "1000" in notices[1].message


def test_not_json_is_a_clear_error(client):
    answer = client.post("/zalo/events", data=b"\xff not json", headers={"X-ZEvent-Signature": "mac=00"})
    assert answer.status_code == 400 and answer.json["error"] == "not_json"


def test_a_delivery_event_resolves_a_send_whose_answer_was_lost(app, client, session, settings, zns):  # noqa: F811
    zns.lost_answers = 1  # Zalo took the message but the answer never arrived (502)
    msg_id = None
    database = get_database(app)
    unit = create_unit(session, options=zalo_unit_options())
    create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=PHONE,
                   intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    grant(database, zns, NOW)
    sms = RecordingProvider()
    run_cycle(database, settings, now=NOW, provider=sms, zalo=provider_at(database, settings, NOW))
    (sent,) = zns.messages
    msg_id = sent["msg_id"]
    assert session.scalars(select(OutboundMessage)).one().status is MessageStatus.UNKNOWN
    assert post(client, zns.delivery_event(msg_id)).status_code == 200
    found = invitation(session)
    assert found.status is InvitationStatus.DELIVERED and found.provider_sid == msg_id
    later = NOW + timedelta(minutes=10)
    run_cycle(database, settings, now=later, provider=sms, zalo=provider_at(database, settings, later))
    assert len(zns.messages) == 1 and sms.sent == []
    assert json.loads(session.scalars(select(OutboundMessage)).one().body)["template_data"] == sent["template_data"]


@pytest.mark.parametrize(("name", "value"), [("SIPAS_ZALO_WINDOW_END", "22:30"), ("SIPAS_ZALO_SIGNATURE_ORDER", "x"),
                                             ("SIPAS_ZALO_WINDOW_START", "8h")])
def test_wrong_zalo_settings_stop_the_app_at_start(database_url, tmp_path, zns, name, value):  # noqa: F811
    from sipas.app import create_app
    from sipas.settings import SettingsError

    with pytest.raises(SettingsError, match=name):
        create_app(zalo_settings(database_url, tmp_path, zns, **{name: value}))


@pytest.mark.parametrize("tracking_id", ["9" * 48, "١٢٣"])
def test_a_delivery_event_with_an_unknown_msg_id_and_an_odd_tracking_id_is_answered(client, session, zns,  # noqa: F811
                                                                                    invited, tracking_id):
    """A delivery event whose msg_id sipas never stored and whose tracking id is a run of digits no invitation id
    can be (48 of them; Arabic-Indic digits, which ``str.isdigit`` accepts) made the webhook answer 500 (the
    integer could not be bound, or ``int`` read a number sipas never sent): Zalo retries a 500 for hours. It is
    answered and changes nothing."""
    body, headers = zns.signed_event({
        "sender": {"id": "oa"}, "recipient": {"id": "84912345678"}, "event_name": "user_received_message",
        "message": {"delivery_time": 1767754800000, "msg_id": "not-a-sipas-message", "tracking_id": tracking_id}})
    answer = client.post("/zalo/events", data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert invitation(session).status is InvitationStatus.SENT
