"""Provider error mapping: Twilio codes through a canned ``twilio.http.HttpClient``, and the
eSMS-shaped HTTP provider through a canned ``requests`` session."""

from __future__ import annotations

import json as jsonlib
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus, OptOut
from sms_gateway.providers import PermanentFailure, TemporaryFailure
from sms_gateway.providers.http_brandname import HttpBrandnameProvider
from sms_gateway.providers.twilio_provider import TwilioProvider
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import PHONE

CREATED = {"sid": "SM" + "f" * 32, "status": "queued", "to": PHONE, "body": "x"}


class CannedHttpClient(HttpClient):
    """Answers each request with the next canned reply (a (status, body) pair or an exception)."""

    def __init__(self, *replies: tuple[int, dict] | Exception) -> None:
        super().__init__(logging.getLogger("canned"), is_async=False, timeout=5)
        self.replies = list(replies)
        self.requests: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,  # type: ignore[no-untyped-def]
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "data": data})
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        status, body = reply
        return TwilioResponse(status, jsonlib.dumps(body))


def twilio_error(code: int, status: int = 400) -> tuple[int, dict]:
    return status, {"code": code, "message": "refused", "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


@pytest.fixture
def sms(settings) -> SmsSettings:  # type: ignore[no-untyped-def]
    return SmsSettings.from_settings(settings)


@pytest.mark.parametrize(("reply", "error", "code"), [
    (twilio_error(21610), PermanentFailure, "21610"),
    (twilio_error(21211), PermanentFailure, "21211"),
    (twilio_error(21408), PermanentFailure, "21408"),
    ((503, {"status": 503, "message": "Service Unavailable"}), TemporaryFailure, "http503"),
    (twilio_error(20429, 429), TemporaryFailure, "20429"),
    (requests.exceptions.ReadTimeout("read timed out"), TemporaryFailure, "network"),
    (requests.exceptions.ConnectionError("refused"), TemporaryFailure, "network"),
])
def test_twilio_errors_are_typed(sms, reply, error, code) -> None:  # type: ignore[no-untyped-def]
    provider = TwilioProvider(sms, http_client=CannedHttpClient(reply))
    with pytest.raises(error) as raised:
        provider.send(PHONE, "Xin chao", status_callback=sms.status_callback_url)
    assert raised.value.code == code
    if code == "21610":
        assert raised.value.opted_out
    if code == "21211":
        assert raised.value.invalid_number


def test_through_the_cycle_21610_opts_out_and_a_timeout_is_retried_once_later(app, session, settings, sms) -> None:  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    for phone in (PHONE, "+84987654321"):
        create_dossier(session, unit, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7, 9),
                       intake_channel=IntakeChannel.ONLINE_FULL, phone=phone, sms_consent=True)
    session.commit()
    canned = CannedHttpClient(twilio_error(21610), requests.exceptions.ReadTimeout("slow"), (201, CREATED))
    provider = TwilioProvider(sms, http_client=canned)
    now = local(2026, 1, 7, 10)
    run_cycle(get_database(app), settings, now=now, provider=provider, sms=sms)
    run_cycle(get_database(app), settings, now=now + timedelta(minutes=1), provider=provider, sms=sms)
    run_cycle(get_database(app), settings, now=now + timedelta(minutes=2), provider=provider, sms=sms)
    session.commit()
    opted, retried = session.scalars(select(Invitation).order_by(Invitation.id)).all()
    assert opted.status is InvitationStatus.OPTED_OUT and session.get(OptOut, opted.phone_hash) is not None
    assert retried.status is InvitationStatus.SENT and retried.attempts == 2 and retried.provider_sid == CREATED["sid"]
    assert len(canned.requests) == 3 and canned.replies == []
    assert all(r["data"]["StatusCallback"].endswith("/sms/twilio/status") for r in canned.requests)


class CannedSession(requests.Session):
    def __init__(self, *replies: tuple[int, object] | Exception) -> None:
        super().__init__()
        self.replies = list(replies)
        self.posted: list[dict] = []

    def post(self, url, json=None, timeout=None, **kwargs):  # type: ignore[no-untyped-def,override]
        self.posted.append(json)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        response = requests.Response()
        response.status_code, response._content = reply[0], jsonlib.dumps(reply[1]).encode()
        return response


@pytest.fixture
def esms(sms) -> SmsSettings:  # type: ignore[no-untyped-def]
    return replace(sms, provider="http", http_api_key="KEY", http_secret_key="SECRET", http_brandname="UBNDPHUHOI",
                   http_sandbox=True)


def test_http_brandname_provider_posts_the_esms_shape(esms) -> None:  # type: ignore[no-untyped-def]
    canned = CannedSession((200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": "abc123"}))
    result = HttpBrandnameProvider(esms, session=canned).send(PHONE, "Xin chao", request_id="sipas7")
    assert result.sid == "abc123"
    assert canned.posted == [{"ApiKey": "KEY", "SecretKey": "SECRET", "Brandname": "UBNDPHUHOI", "SmsType": "2",
                              "Phone": "0912345678", "Content": "Xin chao", "IsUnicode": "0", "Sandbox": "1",
                              "RequestId": "sipas7"}]


@pytest.mark.parametrize(("reply", "error", "code"), [
    ((200, {"CodeResult": "101", "ErrorMessage": "Authorize Failed"}), PermanentFailure, "esms101"),
    ((200, {"CodeResult": "104"}), PermanentFailure, "esms104"),
    ((200, {"CodeResult": "99"}), PermanentFailure, "esms99"),
    ((200, {"CodeResult": "108"}), PermanentFailure, "esms108"),
    ((200, {"CodeResult": "103"}), TemporaryFailure, "esms103"),
    ((200, {}), TemporaryFailure, "esms200"),
    ((502, {}), TemporaryFailure, "http502"),
    (requests.exceptions.ConnectTimeout("slow"), TemporaryFailure, "network"),
])
def test_http_brandname_errors_are_typed(esms, reply, error, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as raised:
        HttpBrandnameProvider(esms, session=CannedSession(reply)).send(PHONE, "Đánh giá")
    assert raised.value.code == code
    if code == "esms99":
        assert raised.value.opted_out and not raised.value.invalid_number
    if code == "esms108":
        assert raised.value.invalid_number and not raised.value.opted_out


def test_a_retried_request_id_the_provider_already_took_counts_as_sent(esms) -> None:  # type: ignore[no-untyped-def]
    canned = CannedSession((200, {"CodeResult": "124", "ErrorMessage": "Duplicate RequestId"}))
    result = HttpBrandnameProvider(esms, session=canned).send(PHONE, "Xin chao", request_id="sipas7i")
    assert result.sid == "sipas7i" and result.status == "accepted"


def test_an_unparsable_number_is_an_invalid_number(esms) -> None:  # type: ignore[no-untyped-def]
    canned = CannedSession()
    with pytest.raises(PermanentFailure) as raised:
        HttpBrandnameProvider(esms, session=canned).send("+999123", "Xin chao")
    assert raised.value.invalid_number and not raised.value.opted_out and canned.posted == []
