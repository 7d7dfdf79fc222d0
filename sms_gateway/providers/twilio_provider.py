"""Twilio Programmable Messaging through twilio-python.

The client is built per provider with ``environment={}`` (so ``TWILIO_EDGE``/``TWILIO_REGION`` in the
process environment cannot redirect it), an explicit timeout and the configured API base (tests point
it at a local Prism mock of Twilio's OpenAPI description).
"""

from __future__ import annotations

import logging

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sms_gateway.providers.base import PermanentFailure, SendResult, SmsProvider, TemporaryFailure
from sms_gateway.settings import SmsSettings

log = logging.getLogger(__name__)


class TwilioProvider(SmsProvider):
    name = "twilio"
    delivers_replies = True

    def __init__(self, settings: SmsSettings, *, http_client: HttpClient | None = None) -> None:
        self.settings = settings
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, environment={},
                             http_client=http_client or TwilioHttpClient(timeout=settings.timeout_seconds))
        self.client.api.base_url = settings.twilio_api_base

    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        params: dict[str, str] = {"to": to_e164, "body": body}
        if self.settings.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        if self.settings.twilio_from:
            params["from_"] = self.settings.twilio_from
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code and exc.code != exc.status else f"http{exc.status}"
            if exc.status >= 500 or exc.status == 429:
                raise TemporaryFailure(code, f"HTTP {exc.status}") from exc
            raise PermanentFailure(code, f"HTTP {exc.status}") from exc
        except requests.RequestException as exc:
            raise TemporaryFailure("network", type(exc).__name__) from exc
        except TwilioException as exc:
            raise TemporaryFailure("twilio", type(exc).__name__) from exc
        log.info("twilio accepted message %s", message.sid)
        return SendResult(sid=str(message.sid), status=str(message.status or "queued"))
