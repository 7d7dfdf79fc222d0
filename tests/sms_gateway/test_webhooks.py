"""Twilio webhooks: signature checks (valid, tampered, missing, behind a proxy, percent-encoded
query), de-duplicated retries, and a full SMS rating."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time, timedelta

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sipas.clock import utcnow
from sipas.logformat import JsonFormatter
from sipas.models import Answer, IntakeChannel, Response, ResponseChannel
from sipas.storage import get_database
from sms_gateway.models import (
    Conversation,
    Invitation,
    InvitationStatus,
    MessageKind,
    MessageStatus,
    OptOut,
    OutboundMessage,
)
from sms_gateway.models_links import ShortLink
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_dossier, create_unit
from tests.sms_gateway.conftest import AUTH_TOKEN, PHONE, PUBLIC, RecordingProvider

INBOUND = "/sms/twilio/inbound"


def post_signed(client, path, params, *, query="", token=AUTH_TOKEN, headers=None, sign_params=None,
                base=PUBLIC):
    url = f"{base}{path}" + (f"?{query}" if query else "")
    signature = RequestValidator(token).compute_signature(url, sign_params if sign_params is not None else params)
    all_headers = {"X-Twilio-Signature": signature} | (headers or {})
    target = path + (f"?{query}" if query else "")
    return client.post(target, data=params, headers=all_headers, base_url="http://127.0.0.1:5000")


def inbound(body, sid="SM" + "a" * 32, sender=PHONE, **extra):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+15005550006", "Body": body, "NumMedia": "0"} | extra


def invited(app, session, settings, *, phone=PHONE, code=None):
    """A returned online dossier whose invitation went out an hour ago."""
    unit = create_unit(session, name="Phường Phú Hội")
    now = utcnow()
    dossier = create_dossier(session, unit, code=code, received_at=now - timedelta(days=3),
                             returned_at=now - timedelta(hours=2), intake_channel=IntakeChannel.ONLINE_FULL,
                             phone=phone, sms_consent=True, now=now - timedelta(hours=2))
    session.commit()
    sms = replace(SmsSettings.from_settings(settings), window_start=time(0, 0), window_end=time(23, 59))
    run_cycle(get_database(app), settings, now=now - timedelta(hours=1), provider=RecordingProvider(), sms=sms)
    return dossier


def count(session, model):
    session.commit()  # the requests committed in their own sessions: end ours and forget cached rows
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_signed_twelve_digit_reply_stores_one_response_and_a_retry_nothing_more(app, client, session, settings):
    dossier = invited(app, session, settings)
    params = inbound("1 1 1 2 1 1 1 1 1 1 3 0")
    first = post_signed(client, INBOUND, params, headers={"I-Twilio-Idempotency-Token": "tok-1"})
    assert first.status_code == 200 and first.mimetype == "text/xml"
    assert "<Response><Message>" in first.get_data(as_text=True) and "cam on" in first.get_data(as_text=True)
    assert count(session, Response) == 1
    response = session.scalars(select(Response)).one()
    assert response.channel is ResponseChannel.SMS and response.dossier_id == dossier.id
    answers = session.scalars(select(Answer).where(Answer.response_id == response.id)
                              .order_by(Answer.position)).all()
    assert [a.option_code for a in answers] == ["rat_hai_long"] * 3 + ["hai_long"] + ["rat_hai_long"] * 6 + [
        "khong_hai_long", None]
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.status is InvitationStatus.ANSWERED
    assert invitation.response_id == response.id and invitation.answered_at is not None
    link = session.get(ShortLink, invitation.link_id)  # the invitation's link is spent by the SMS rating
    assert link is not None and link.used_at is not None and link.response_id == response.id

    again = post_signed(client, INBOUND, params, headers={"I-Twilio-Idempotency-Token": "tok-1"})
    assert again.status_code == 200 and again.get_data() == first.get_data()
    other_token = post_signed(client, INBOUND, params, headers={"I-Twilio-Idempotency-Token": "tok-2"})
    assert other_token.status_code == 200
    assert count(session, Response) == 1 and count(session, Answer) == 12

    unsigned = client.post(INBOUND, data=inbound("1 1 1 1 1 1 1 1 1 1 1 1", sid="SM" + "b" * 32))
    assert unsigned.status_code == 403
    assert count(session, Response) == 1


def test_tampered_and_wrongly_signed_requests_are_refused(app, client, session, settings):
    invited(app, session, settings)
    params = inbound("1 1 1 1 1 1 1 1 1 1 1 1")
    tampered = post_signed(client, INBOUND, params | {"Body": "3 3 3 3 3 3 3 3 3 3 3 3"}, sign_params=params)
    assert tampered.status_code == 403
    wrong_key = post_signed(client, INBOUND, params, token="another-auth-token-0000000000000")
    assert wrong_key.status_code == 403
    wrong_url = post_signed(client, INBOUND, params, base="http://127.0.0.1:5000")
    assert wrong_url.status_code == 403
    assert count(session, Response) == 0 and count(session, OptOut) == 0


def test_behind_a_proxy_the_public_url_is_what_counts(app, client, session, settings):
    invited(app, session, settings)
    params = inbound("1 1 1 1 1 1 1 1 1 1 1 1")
    response = post_signed(client, INBOUND, params,
                           headers={"Host": "10.0.0.5:8000", "X-Forwarded-Proto": "https",
                                    "X-Forwarded-Host": "danhgia.example.gov.vn"})
    assert response.status_code == 200 and count(session, Response) == 1


def test_percent_encoded_query_string_is_signed_as_sent(app, client, session, settings):
    invited(app, session, settings)
    query = "unit=W%C3%A1%201&next=%2Fr%2Fabc%3Fx%3D1"
    response = post_signed(client, INBOUND, inbound("HD"), query=query)
    assert response.status_code == 200 and "<Message>" in response.get_data(as_text=True)
    decoded = post_signed(client, INBOUND, inbound("HD", sid="SM" + "c" * 32), query=query,
                          headers={}, sign_params=None)
    assert decoded.status_code == 200
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}{INBOUND}?unit=Wá 1&next=/r/abc?x=1",
                                                               inbound("HD"))
    refused = client.post(f"{INBOUND}?{query}", data=inbound("HD"), headers={"X-Twilio-Signature": signature})
    assert refused.status_code == 403


def test_partial_reply_gets_a_follow_up_then_completes(app, client, session, settings):
    invited(app, session, settings)
    first = post_signed(client, INBOUND, inbound("rất hài lòng, hài lòng, khong hai long 1 1 1 1 1", sid="SM1"))
    text = first.get_data(as_text=True)
    assert "Con thieu tieu chi 9, 10, 11, 12" in text
    assert count(session, Response) == 0 and count(session, Conversation) == 1
    second = post_signed(client, INBOUND, inbound("1-2-2-0", sid="SM2"))
    assert "cam on" in second.get_data(as_text=True)
    assert count(session, Response) == 1 and count(session, Conversation) == 0
    kinds = session.scalars(select(OutboundMessage.kind).where(OutboundMessage.invitation_id.is_(None))
                            .order_by(OutboundMessage.id)).all()
    assert kinds == [MessageKind.FOLLOW_UP, MessageKind.REPLY]
    codes = session.scalars(select(Answer.option_code).order_by(Answer.position)).all()
    assert codes[:3] == ["rat_hai_long", "hai_long", "khong_hai_long"] and codes[8:] == [
        "rat_hai_long", "hai_long", "hai_long", None]


def test_zero_on_a_criterion_without_not_applicable_is_asked_again(app, client, session, settings):
    invited(app, session, settings)
    reply = post_signed(client, INBOUND, inbound("0 1 1 1 1 1 1 1 1 1 1 1", sid="SM1"))
    assert "Con thieu tieu chi 1." in reply.get_data(as_text=True)
    done = post_signed(client, INBOUND, inbound("2", sid="SM2"))
    assert "cam on" in done.get_data(as_text=True) and count(session, Response) == 1


def test_several_open_invitations_need_the_dossier_code(app, client, session, settings):
    invited(app, session, settings, code="HS-A-0001")
    invited(app, session, settings, code="HS-B-0002")
    ask = post_signed(client, INBOUND, inbound("1 1 1 1 1 1 1 1 1 1 1 1", sid="SM1"))
    assert "HS-A-0001" in ask.get_data(as_text=True) and count(session, Response) == 0
    done = post_signed(client, INBOUND, inbound("hs-b-0002: 1 1 1 1 1 1 1 1 1 1 1 1", sid="SM2"))
    assert "cam on" in done.get_data(as_text=True) and count(session, Response) == 1
    rated = session.scalars(select(Response)).one()
    assert rated.dossier.code == "HS-B-0002"


def test_a_dossier_code_followed_by_a_full_stop_still_names_the_dossier(app, client, session, settings):
    invited(app, session, settings, code="000.00.20.H57-260105-0001")
    done = post_signed(client, INBOUND, inbound("000.00.20.H57-260105-0001. 1 1 1 1 1 1 1 1 1 1 1 1", sid="SM1"))
    assert "cam on" in done.get_data(as_text=True) and count(session, Response) == 1


def test_grouped_digits_from_a_number_with_one_invitation_are_ratings_not_a_code(app, client, session, settings):
    invited(app, session, settings)
    for sid, text in (("SM1", "111-211 111-130"), ("SM2", "11-12 11 11 11 30"), ("SM3", "11.12.11 11.11.11")):
        reply = post_signed(client, INBOUND, inbound(text, sid=sid)).get_data(as_text=True)
        assert "nhieu ho so" not in reply
    assert count(session, Response) == 1  # the first stored it; the others are thanked, nothing more
    codes = session.scalars(select(Answer.option_code).order_by(Answer.position)).all()
    assert codes[3] == "hai_long" and codes[10] == "khong_hai_long" and codes[11] is None


def test_a_long_digit_code_that_matches_no_open_invitation_is_read_as_ratings(app, client, session, settings):
    invited(app, session, settings)
    reply = post_signed(client, INBOUND, inbound("1111-2111 1130", sid="SM1"))
    assert "cam on" in reply.get_data(as_text=True) and count(session, Response) == 1


def test_an_open_dossier_code_of_digits_only_is_still_a_code(app, client, session, settings):
    invited(app, session, settings, code="12-34")
    invited(app, session, settings, code="HS-B-0002")
    done = post_signed(client, INBOUND, inbound("12-34 1 1 1 1 1 1 1 1 1 1 1 1", sid="SM1"))
    assert "cam on" in done.get_data(as_text=True)
    assert count(session, Response) == 1 and session.scalars(select(Response)).one().dossier.code == "12-34"


def test_ko_hai_long_is_a_rating_not_a_dossier_code(app, client, session, settings):
    invited(app, session, settings)
    reply = post_signed(client, INBOUND, inbound("ko hai long", sid="SM1")).get_data(as_text=True)
    assert "Con thieu tieu chi 2, 3" in reply and count(session, Conversation) == 1
    assert session.scalars(select(Conversation)).one().answers == {"tc01": "khong_hai_long"}


def test_stop_opts_out_and_start_opts_back_in(app, client, session, settings):
    invited(app, session, settings)
    stop = post_signed(client, INBOUND, inbound("TC", sid="SM1"))
    assert "Da ngung gui" in stop.get_data(as_text=True) and count(session, OptOut) == 1
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.OPTED_OUT
    advanced = post_signed(client, INBOUND, inbound("ngừng đi", sid="SM2", OptOutType="STOP"))
    assert advanced.get_data(as_text=True).endswith("<Response/>")  # Twilio confirms by itself
    silent = post_signed(client, INBOUND, inbound("1 1 1 1 1 1 1 1 1 1 1 1", sid="SM3"))
    assert silent.get_data(as_text=True).endswith("<Response/>") and count(session, Response) == 0
    start = post_signed(client, INBOUND, inbound("batdau", sid="SM4"))
    assert "nhan lai" in start.get_data(as_text=True)
    assert count(session, OptOut) == 1
    assert not session.scalars(select(OptOut)).one().active


def test_anything_else_gets_a_short_helpful_answer(app, client, session, settings):
    invited(app, session, settings)
    answer = post_signed(client, INBOUND, inbound("Cho hỏi khi nào có kết quả?", sid="SM1"))
    text = answer.get_data(as_text=True)
    assert "Tra loi 12 so" in text and count(session, Response) == 0
    stranger = post_signed(client, INBOUND, inbound("1 1 1", sid="SM2", sender="+84933333333"))
    assert "Khong co ho so" in stranger.get_data(as_text=True)
    replies = session.scalars(select(OutboundMessage.body)).all()
    assert all(PHONE not in body for body in replies)


def test_status_callback_updates_the_message_and_the_invitation(app, client, session, settings):
    invited(app, session, settings)
    session.commit()
    message = session.scalars(select(OutboundMessage)).one()
    status = {"MessageSid": message.sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert client.post("/sms/twilio/status", data=status).status_code == 403
    ok = post_signed(client, "/sms/twilio/status", status)
    assert ok.status_code == 200
    session.commit()
    session.expire_all()
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.DELIVERED


def test_an_opt_out_reported_on_a_sent_invitation_opts_the_number_out(app, client, session, settings):
    invited(app, session, settings)
    session.commit()
    message = session.scalars(select(OutboundMessage)).one()
    failed = post_signed(client, "/sms/twilio/status", {"MessageSid": message.sid, "MessageStatus": "undelivered",
                                                        "ErrorCode": "21610", "AccountSid": "AC" + "0" * 32})
    assert failed.status_code == 200
    session.commit()
    session.expire_all()
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.OPTED_OUT
    assert count(session, OptOut) == 1


def test_status_changes_only_move_forward_whatever_the_idempotency_token(app, client, session, settings):
    """A replayed report with a new I-Twilio-Idempotency-Token (not covered by the signature) is a new delivery
    to the de-duplication, but it cannot take a delivered invitation back to failed."""
    invited(app, session, settings)
    session.commit()
    message = session.scalars(select(OutboundMessage)).one()
    base = {"MessageSid": message.sid, "AccountSid": "AC" + "0" * 32}
    for token, status, error in (("t1", "sent", None), ("t2", "delivered", None), ("t3", "failed", "30003"),
                                 ("t4", "sent", None), ("t5", "undelivered", "30005")):
        params = base | {"MessageStatus": status} | ({"ErrorCode": error} if error else {})
        answer = post_signed(client, "/sms/twilio/status", params, headers={"I-Twilio-Idempotency-Token": token})
        assert answer.status_code == 200
    session.commit()
    session.expire_all()
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.status is InvitationStatus.DELIVERED and invitation.last_error_code is None
    outbound = session.get(OutboundMessage, message.id)
    assert outbound.status is MessageStatus.DELIVERED and outbound.error_code is None
    # An opt-out is still honoured when it arrives late: the number gets no further message.
    late_stop = post_signed(client, "/sms/twilio/status", base | {"MessageStatus": "failed", "ErrorCode": "21610"},
                            headers={"I-Twilio-Idempotency-Token": "t6"})
    assert late_stop.status_code == 200
    session.commit()
    session.expire_all()
    assert count(session, OptOut) == 1
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.OPTED_OUT  # no reminder will go
    assert session.get(OutboundMessage, message.id).status is MessageStatus.DELIVERED


def test_a_late_status_report_resolves_a_send_whose_outcome_was_unknown(app, client, session, settings):
    import requests

    from sms_gateway.providers.twilio_provider import TwilioProvider
    from tests.sms_gateway.canned import CannedHttpClient

    unit = create_unit(session)
    now = utcnow()
    create_dossier(session, unit, received_at=now - timedelta(days=3), returned_at=now - timedelta(hours=2),
                   intake_channel=IntakeChannel.ONLINE_FULL, phone=PHONE, sms_consent=True,
                   now=now - timedelta(hours=2))
    session.commit()
    sms = replace(SmsSettings.from_settings(settings), window_start=time(0, 0), window_end=time(23, 59))
    canned = CannedHttpClient(requests.exceptions.ReadTimeout("read timed out"))
    sent_at = now - timedelta(minutes=10)
    run_cycle(get_database(app), settings, now=sent_at, provider=TwilioProvider(sms, http_client=canned), sms=sms)
    count(session, OutboundMessage)
    outbound = session.scalars(select(OutboundMessage)).one()
    assert outbound.status is MessageStatus.UNKNOWN and outbound.sid is None
    callback = canned.requests[0]["data"]["StatusCallback"]
    assert callback == f"{PUBLIC}/sms/twilio/status?o={outbound.id}"

    report = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    signed_without_query = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}/sms/twilio/status", report)
    refused = client.post(f"/sms/twilio/status?o={outbound.id}", data=report,
                          headers={"X-Twilio-Signature": signed_without_query})
    assert refused.status_code == 403  # the signature covers the query
    ok = post_signed(client, "/sms/twilio/status", report, query=f"o={outbound.id}")
    assert ok.status_code == 200
    count(session, OutboundMessage)
    outbound = session.scalars(select(OutboundMessage)).one()
    invitation = session.scalars(select(Invitation)).one()
    assert outbound.sid == report["MessageSid"] and outbound.status is MessageStatus.DELIVERED
    assert invitation.status is InvitationStatus.DELIVERED and invitation.provider_sid == report["MessageSid"]
    assert invitation.sent_at == sent_at

    run_cycle(get_database(app), settings, now=now, provider=TwilioProvider(sms, http_client=canned), sms=sms)
    assert len(canned.requests) == 1  # neither looked up nor sent again


def test_http_provider_inbound_needs_its_shared_secret(app, client, session, settings, tmp_path, database_url):
    invited(app, session, settings)
    body = {"Phone": "0912345678", "Content": "1 1 1 1 1 1 1 1 1 1 1 1", "MessageId": "esms-1"}
    assert client.post("/sms/http/inbound", json=body).status_code == 404  # not configured: no route
    app.extensions["sms_settings"] = replace(app.extensions["sms_settings"], http_inbound_secret="s3cret-value")
    assert client.post("/sms/http/inbound", json=body).status_code == 403
    assert client.post("/sms/http/inbound", json=body, headers={"X-Sipas-Secret": "wrong"}).status_code == 403
    ok = client.post("/sms/http/inbound", json=body, headers={"X-Sipas-Secret": "s3cret-value"})
    assert ok.status_code == 200 and "cam on" in ok.json["reply"]
    again = client.post("/sms/http/inbound", json=body, headers={"X-Sipas-Secret": "s3cret-value"})
    assert again.json == ok.json and count(session, Response) == 1


def test_http_provider_replies_are_recorded_and_capped_like_twilio_ones(app, client, session, settings):
    invited(app, session, settings)
    app.extensions["sms_settings"] = replace(app.extensions["sms_settings"], http_inbound_secret="s3cret-value")
    headers = {"X-Sipas-Secret": "s3cret-value"}
    answers = [client.post("/sms/http/inbound", json={"Phone": "0912345678", "Content": "?", "MessageId": f"e{i}"},
                           headers=headers).json["reply"] for i in range(11)]
    assert all(a and "Tra loi 12 so" in a for a in answers[:10]) and answers[10] is None
    count(session, OutboundMessage)
    replies = session.scalars(select(OutboundMessage).where(OutboundMessage.invitation_id.is_(None))).all()
    assert len(replies) == 10 and {(m.provider, m.kind) for m in replies} == {("http", MessageKind.REPLY)}
    assert {m.to_hash for m in replies} == {session.scalars(select(Invitation.phone_hash)).one()}
    assert all(m.to_hint == "678" for m in replies)


def test_answers_to_one_number_stop_after_ten_a_day(app, client, session, settings):
    invited(app, session, settings)
    answers = [post_signed(client, INBOUND, inbound("?", sid=f"SM{i}")).get_data(as_text=True) for i in range(11)]
    assert all("<Message>" in a for a in answers[:10]) and answers[10].endswith("<Response/>")
    kinds = session.scalars(select(OutboundMessage.kind).where(OutboundMessage.invitation_id.is_(None))).all()
    assert len(kinds) == 10
    follow = post_signed(client, INBOUND, inbound("1 1", sid="SM99"))
    assert follow.get_data(as_text=True).endswith("<Response/>") and count(session, Conversation) == 1


def test_logs_never_carry_the_phone_number_or_the_text(app, client, session, settings, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    invited(app, session, settings)
    post_signed(client, INBOUND, inbound("1 1 1 1 rất tệ", sid="SM1"))
    post_signed(client, INBOUND, inbound("1 1 1 1 1 1 1 1 1 1 1 1", sid="SM2"))
    post_signed(client, INBOUND, inbound("TC", sid="SM3"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text and "912345678" not in text and "rất tệ" not in text
    # the same records as JSON lines (SIPAS_LOG_FORMAT=json): nothing more than the message goes out
    json_lines = [JsonFormatter().format(r) for r in caplog.records]
    assert all(json.loads(line)["message"] == r.getMessage() for line, r in zip(json_lines, caplog.records,
                                                                                   strict=True))
    joined = "\n".join(json_lines)
    assert "912345678" not in joined and "rất tệ" not in joined and "r\\u1ea5t" not in joined


def test_a_signature_is_computed_once_when_it_matches(app, client, session, settings, monkeypatch):
    """Twilio's validate computed the HMAC over the URL without and with its port on every request; a request
    signed over the URL as sent (as Twilio signs it) now costs one. Signed with the port, or wrongly, it costs
    two: the first still passes, the second is still refused."""
    invited(app, session, settings)
    computed: list[str] = []
    compute = RequestValidator.compute_signature

    def counting(self, uri, params, algorithm=None):  # type: ignore[no-untyped-def]
        computed.append(uri)
        return compute(self, uri, params, algorithm)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    url, with_port = PUBLIC + INBOUND, PUBLIC + ":443" + INBOUND
    assert post_signed(client, INBOUND, inbound("HD")).status_code == 200
    assert computed == [url, url]  # the test's own signing, then the webhook's check
    computed.clear()
    signed_with_port = post_signed(client, INBOUND, inbound("HD", sid="SM" + "d" * 32), base=PUBLIC + ":443")
    assert signed_with_port.status_code == 200 and computed == [with_port, url, with_port]
    computed.clear()
    wrong = post_signed(client, INBOUND, inbound("HD", sid="SM" + "e" * 32), token="another-auth-token-0000000000000")
    assert wrong.status_code == 403 and computed == [url, url, with_port]


def test_a_sha256_signature_passes_and_an_unknown_algorithm_is_refused(app, client, session, settings):
    """The signature settings header names the algorithm (Twilio's library decides which it knows)."""
    invited(app, session, settings)
    params = inbound("HD")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + INBOUND, params, "HMAC_SHA256")
    header = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_x,algorithm=HMAC_SHA256"}
    sha256 = client.post(INBOUND, data=params, headers={"X-Twilio-Signature": signature} | header)
    assert sha256.status_code == 200 and "<Message>" in sha256.get_data(as_text=True)
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    refused = client.post(INBOUND, data=inbound("HD", sid="SM" + "f" * 32),
                          headers={"X-Twilio-Signature": signature} | unknown)
    assert refused.status_code == 403
