"""Outbound calls checked against Twilio's OpenAPI description served by Prism on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from twilio.http.http_client import TwilioHttpClient

from sipas.settings import Settings
from sms_gateway.providers import PermanentFailure, SendResult
from sms_gateway.providers.twilio_provider import TwilioProvider
from sms_gateway.settings import SmsSettings
from tests.sms_gateway.conftest import ACCOUNT_SID, PHONE, PUBLIC, TWILIO_ENV
from tests.sms_gateway.prism import prism_url  # noqa: F401  (session fixture)

pytestmark = pytest.mark.slow  # starts the Prism server; `make test` runs it, `make test-fast` does not


@pytest.fixture
def sms(prism_url: str, tmp_path: Path) -> SmsSettings:  # noqa: F811
    settings = Settings.from_env(TWILIO_ENV | {"SIPAS_TWILIO_API_BASE": prism_url},
                                 database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key="x", testing=True)
    return SmsSettings.from_settings(settings)


def test_send_is_a_valid_messages_create_call(sms: SmsSettings) -> None:
    http = TwilioHttpClient(timeout=10)
    provider = TwilioProvider(sms, http_client=http)
    result = provider.send(PHONE, "UBND Phuong Phu Hoi: HS 1 da co ket qua.", status_callback=sms.status_callback_url)
    assert result.sid.startswith("SM") and len(result.sid) == 34 and result.status == "queued"
    sent = http._test_only_last_request
    assert sent.url == f"{sms.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.data["To"] == PHONE and sent.data["From"] == "+15005550006"
    assert sent.data["StatusCallback"] == f"{PUBLIC}/sms/twilio/status"


def test_a_status_callback_carrying_the_outbound_id_is_accepted(sms: SmsSettings) -> None:
    http = TwilioHttpClient(timeout=10)
    TwilioProvider(sms, http_client=http).send(PHONE, "Xin chao", status_callback=sms.status_callback_for(42))
    assert http._test_only_last_request.data["StatusCallback"] == f"{PUBLIC}/sms/twilio/status?o=42"


def test_the_lookup_is_a_valid_messages_list_call(sms: SmsSettings) -> None:
    """After an ambiguous send the provider lists the newest messages to the number: one GET, bounded."""
    http = TwilioHttpClient(timeout=10)
    provider = TwilioProvider(sms, http_client=http)
    assert provider.find_sent(PHONE, "UBND Phuong Phu Hoi: HS 1 da co ket qua.", datetime.now(UTC)) is None
    sent = http._test_only_last_request
    assert sent.method == "GET" and sent.url == f"{sms.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.params == {"To": PHONE, "PageSize": 20}
    # the documented example answer is read: its outbound "testing" message, created 24 May 2019, matches
    found = provider.find_sent(PHONE, "testing", datetime(2019, 5, 24, 17, 40, tzinfo=UTC))
    assert found == SendResult(sid="SMded05904ccb347238880ca9264e8fe1c", status="sent")


def test_the_mock_rejects_a_malformed_list_call(sms: SmsSettings) -> None:
    provider = TwilioProvider(sms, http_client=TwilioHttpClient(timeout=10))
    url = f"{sms.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert provider.client.request("GET", url, params={"To": PHONE, "PageSize": 20}).status_code == 200
    refused = provider.client.request("GET", url, params={"To": PHONE, "PageSize": 0})
    assert refused.status_code == 422 and "pagesize" in refused.text.lower()


def test_messaging_service_instead_of_a_from_number(sms: SmsSettings) -> None:
    service = replace(sms, twilio_from="", twilio_messaging_service_sid="MG" + "0123456789abcdef" * 2)
    http = TwilioHttpClient(timeout=10)
    TwilioProvider(service, http_client=http).send(PHONE, "Xin chao", status_callback=None)
    assert "From" not in http._test_only_last_request.data
    assert http._test_only_last_request.data["MessagingServiceSid"] == service.twilio_messaging_service_sid


def test_the_mock_rejects_a_malformed_call(sms: SmsSettings) -> None:
    """Proof the mock validates: a relative callback URL and a missing To are refused with 422."""
    provider = TwilioProvider(sms, http_client=TwilioHttpClient(timeout=10))
    with pytest.raises(PermanentFailure) as refused:
        provider.send(PHONE, "Xin chao", status_callback="sms/twilio/status")
    assert refused.value.code == "http422"
    url = f"{sms.twilio_api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    complete = {"To": PHONE, "From": "+15005550006", "Body": "Xin chao"}
    assert provider.client.request("POST", url, data=complete).status_code == 201
    without_to = provider.client.request("POST", url, data={k: v for k, v in complete.items() if k != "To"})
    assert without_to.status_code == 422 and "'To'" in without_to.text
