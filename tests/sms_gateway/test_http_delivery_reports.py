"""Delivery reports of the HTTP brandname provider: the callback URL given with each message carries a key
for that message (eSMS signs nothing); a report with a wrong key is refused, a retried one changes nothing,
a report for a send whose answer was lost resolves it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from sipas.app import create_app
from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.http_status import report_key
from sms_gateway.models import InboundDelivery, Invitation, InvitationStatus, MessageStatus, OutboundMessage
from sms_gateway.providers import TemporaryFailure
from sms_gateway.sending import run_cycle
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import PHONE, PUBLIC, RecordingProvider

NOW = local(2026, 1, 7, 10, 0)


class HttpRecording(RecordingProvider):
    name = "http"
    deduplicates_requests = True


def send_one(app, session, settings, provider):
    unit = create_unit(session)
    create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=PHONE,
                   intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    run_cycle(get_database(app), settings, now=NOW, provider=provider)
    callback = provider.calls[-1]["status_callback"]
    assert callback.startswith(f"{PUBLIC}/sms/http/status?")
    return urlsplit(callback)


def state(session):
    session.commit()
    session.expire_all()
    return session.scalars(select(Invitation)).one(), session.scalars(select(OutboundMessage)).one()


def test_a_delivery_report_marks_the_invitation_delivered_once(app, client, session, settings):
    provider = HttpRecording()
    url = send_one(app, session, settings, provider)
    _, row = state(session)
    report = {**{k: v[0] for k, v in parse_qs(url.query).items()}, "SMSID": row.sid, "SendStatus": "5",
              "RequestId": "sipas1i"}
    answer = client.get(url.path, query_string=report)
    assert answer.status_code == 200 and answer.json == {"ok": True}
    invitation, row = state(session)
    assert invitation.status is InvitationStatus.DELIVERED and row.status is MessageStatus.DELIVERED
    assert client.get(url.path, query_string=report).json == {"ok": True, "duplicate": True}
    assert session.scalar(select(func.count()).select_from(InboundDelivery)) == 1


def test_a_report_with_a_wrong_key_or_for_another_message_is_refused(app, client, session, settings):
    url = send_one(app, session, settings, HttpRecording())
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    _, row = state(session)
    forged = client.get(url.path, query_string={**params, "k": "0" * 32, "SMSID": row.sid, "SendStatus": "4"})
    assert forged.status_code == 403 and forged.json["error"] == "bad_key"
    other = client.get(url.path, query_string={**params, "o": str(row.id + 1), "SMSID": row.sid, "SendStatus": "4"})
    assert other.status_code == 403
    bad = client.get(url.path, query_string={**params, "SMSID": row.sid, "SendStatus": "9"})
    assert bad.status_code == 400 and bad.json["error"] == "bad_report"
    invitation, row = state(session)
    assert invitation.status is InvitationStatus.SENT and row.status is not MessageStatus.FAILED


def test_a_report_resolves_a_send_whose_answer_was_lost(app, client, session, settings):
    provider = HttpRecording()
    provider.failures = [TemporaryFailure("timeout", may_have_sent=True)]
    url = send_one(app, session, settings, provider)
    invitation, row = state(session)
    assert row.status is MessageStatus.UNKNOWN and row.sid is None
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert client.get(url.path, query_string={**params, "SMSID": "esms-77", "SendStatus": "5"}).status_code == 200
    invitation, row = state(session)
    assert row.sid == "esms-77" and row.status is MessageStatus.DELIVERED
    assert invitation.status is InvitationStatus.DELIVERED and invitation.provider_sid == "esms-77"


def test_without_sipas_secret_key_the_report_key_comes_from_the_generated_secret(session, settings):
    """SIPAS_SECRET_KEY empty (config/example.env's default: a key is generated into the instance folder): the
    callback's key was an HMAC keyed with the empty string on both sides, so anyone could compute it and mark
    any message failed or delivered."""
    generated = replace(settings, secret_key="")
    app = create_app(generated)
    try:
        url = send_one(app, session, generated, HttpRecording())
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        guessable = report_key("", int(params["o"]))
        assert params["k"] != guessable
        _, row = state(session)
        client = app.test_client()
        forged = client.get(url.path, query_string={**params, "k": guessable, "SMSID": row.sid, "SendStatus": "4"})
        assert forged.status_code == 403
        genuine = client.get(url.path, query_string={**params, "SMSID": row.sid, "SendStatus": "5"})
        assert genuine.status_code == 200 and genuine.json == {"ok": True}
    finally:
        get_database(app).dispose()
