"""Provider error mapping: Twilio codes through a canned ``twilio.http.HttpClient`` (and real refused or
silent sockets), and the eSMS-shaped HTTP provider through a canned ``requests`` session. Each
temporary failure says whether the message may exist at the provider (``may_have_sent``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus, OptOut
from sms_gateway.providers import PermanentFailure, TemporaryFailure
from sms_gateway.providers.http_brandname import HttpBrandnameProvider
from sms_gateway.providers.twilio_provider import TwilioProvider
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.canned import CannedHttpClient, CannedSession, twilio_error
from tests.sms_gateway.conftest import PHONE
from tests.sms_gateway.prism import free_port

REFUSED = requests.exceptions.ConnectionError(
    MaxRetryError(None, "/2010-04-01/Accounts/x/Messages.json",  # type: ignore[arg-type]
                  NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")))
ABORTED = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))


@pytest.fixture
def sms(settings) -> SmsSettings:  # type: ignore[no-untyped-def]
    return SmsSettings.from_settings(settings)


@pytest.mark.parametrize(("reply", "error", "code", "may_have_sent"), [
    (twilio_error(21610), PermanentFailure, "21610", None),
    (twilio_error(21211), PermanentFailure, "21211", None),
    (twilio_error(21408), PermanentFailure, "21408", None),
    ((503, {"status": 503, "message": "Service Unavailable"}), TemporaryFailure, "http503", True),
    (twilio_error(20429, 429), TemporaryFailure, "20429", False),
    (requests.exceptions.ReadTimeout("read timed out"), TemporaryFailure, "timeout", True),
    (requests.exceptions.ConnectTimeout("connect timed out"), TemporaryFailure, "network", False),
    (REFUSED, TemporaryFailure, "network", False),
    (ABORTED, TemporaryFailure, "connection_lost", True),
    ((201, "<html>proxy error</html>"), TemporaryFailure, "bad_response", True),
])
def test_twilio_errors_are_typed(sms, reply, error, code, may_have_sent) -> None:  # type: ignore[no-untyped-def]
    provider = TwilioProvider(sms, http_client=CannedHttpClient(reply))
    with pytest.raises(error) as raised:
        provider.send(PHONE, "Xin chao", status_callback=sms.status_callback_url)
    assert raised.value.code == code
    if may_have_sent is not None:
        assert raised.value.may_have_sent is may_have_sent
    if code == "21610":
        assert raised.value.opted_out
    if code == "21211":
        assert raised.value.invalid_number


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_real_sockets_refused_is_safe_to_resend_silence_is_ambiguous(sms, silent_server) -> None:  # type: ignore[no-untyped-def]
    refused = TwilioProvider(replace(sms, twilio_api_base=f"http://127.0.0.1:{free_port()}"),
                             http_client=TwilioHttpClient(timeout=2))
    with pytest.raises(TemporaryFailure) as nothing_sent:
        refused.send(PHONE, "Xin chao")
    assert nothing_sent.value.code == "network" and not nothing_sent.value.may_have_sent
    silent = TwilioProvider(replace(sms, twilio_api_base=f"http://127.0.0.1:{silent_server}"),
                            http_client=TwilioHttpClient(timeout=0.3))
    with pytest.raises(TemporaryFailure) as maybe_sent:
        silent.send(PHONE, "Xin chao")
    assert maybe_sent.value.code == "timeout" and maybe_sent.value.may_have_sent


def test_the_twilio_client_logs_no_number_of_a_lookup(sms, caplog) -> None:  # type: ignore[no-untyped-def]
    """twilio-python writes every request at INFO ("GET Request: …/Messages.json?To=%2B84912345678…", "Query
    Params: {'To': '+84912345678', …}"): the lookup of an ambiguous send named the citizen's number in the
    scheduler's log. Its request dumps are kept below the level sipas logs at."""
    import logging
    from datetime import UTC, datetime

    caplog.set_level(logging.INFO)
    provider = TwilioProvider(replace(sms, twilio_api_base=f"http://127.0.0.1:{free_port()}"),
                              http_client=TwilioHttpClient(timeout=2))
    with pytest.raises(TemporaryFailure):
        provider.find_sent(PHONE, "Xin chao", datetime(2026, 1, 7, 3, tzinfo=UTC))
    with pytest.raises(TemporaryFailure):
        provider.send(PHONE, "Xin chao")
    assert PHONE[3:] not in caplog.text


def test_through_the_cycle_21610_opts_the_number_out(app, session, settings, sms) -> None:  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    create_dossier(session, unit, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7, 9),
                   intake_channel=IntakeChannel.ONLINE_FULL, phone=PHONE, sms_consent=True)
    session.commit()
    canned = CannedHttpClient(twilio_error(21610))
    run_cycle(get_database(app), settings, now=local(2026, 1, 7, 10), provider=TwilioProvider(sms, http_client=canned),
              sms=sms)
    session.commit()
    opted = session.scalars(select(Invitation)).one()
    assert opted.status is InvitationStatus.OPTED_OUT and session.get(OptOut, opted.phone_hash) is not None
    assert canned.methods == ["POST"]


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


@pytest.mark.parametrize(("reply", "error", "code", "may_have_sent"), [
    ((200, {"CodeResult": "101", "ErrorMessage": "Authorize Failed"}), PermanentFailure, "esms101", None),
    ((200, {"CodeResult": "104"}), PermanentFailure, "esms104", None),
    ((200, {"CodeResult": "99"}), PermanentFailure, "esms99", None),
    ((200, {"CodeResult": "108"}), PermanentFailure, "esms108", None),
    ((200, {"CodeResult": "103"}), TemporaryFailure, "esms103", False),
    ((200, {}), TemporaryFailure, "esms200", True),
    ((200, "<html>gateway</html>"), TemporaryFailure, "http200", True),
    ((502, {}), TemporaryFailure, "http502", True),
    ((429, {}), TemporaryFailure, "http429", False),
    (requests.exceptions.ConnectTimeout("slow"), TemporaryFailure, "network", False),
    (requests.exceptions.ReadTimeout("slow"), TemporaryFailure, "timeout", True),
])
def test_http_brandname_errors_are_typed(esms, reply, error, code, may_have_sent) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as raised:
        HttpBrandnameProvider(esms, session=CannedSession(reply)).send(PHONE, "Đánh giá")
    assert raised.value.code == code
    if may_have_sent is not None:
        assert raised.value.may_have_sent is may_have_sent
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
