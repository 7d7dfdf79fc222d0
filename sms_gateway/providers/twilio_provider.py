"""Twilio Programmable Messaging through twilio-python.

The client is built per provider with ``environment={}`` (so ``TWILIO_EDGE``/``TWILIO_REGION`` in the
process environment cannot redirect it), an explicit timeout and the configured API base (tests point
it at a local Prism mock of Twilio's OpenAPI description).

Twilio has no idempotency key for creating a message, so a failure after the request may have reached
it (read timeout, 5xx, an unreadable answer) is reported with ``may_have_sent`` and reconciled with
``find_sent`` before anything is sent again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sms_gateway.providers.base import PermanentFailure, SendResult, SmsProvider, TemporaryFailure
from sms_gateway.providers.network import network_failure
from sms_gateway.settings import SmsSettings

log = logging.getLogger(__name__)
# twilio-python writes every request at INFO, query parameters included: a lookup's ``To`` is the citizen's number.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
LOOKUP_PAGE = 20  # one page, newest first: the daily cap keeps far fewer messages per number
LOOKUP_MARGIN = timedelta(minutes=5)  # our clock against Twilio's date_created


def _rest_code(exc: TwilioRestException) -> str:
    return str(exc.code) if exc.code and exc.code != exc.status else f"http{exc.status}"


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
            code = _rest_code(exc)
            if exc.status == 429:
                raise TemporaryFailure(code, "HTTP 429") from exc  # refused before creating anything
            if exc.status >= 500:
                raise TemporaryFailure(code, f"HTTP {exc.status}", may_have_sent=True) from exc
            raise PermanentFailure(code, f"HTTP {exc.status}") from exc
        except requests.RequestException as exc:
            raise network_failure(exc) from exc
        except (TwilioException, ValueError, KeyError) as exc:  # an answer that cannot be read
            raise TemporaryFailure("bad_response", type(exc).__name__, may_have_sent=True) from exc
        log.info("twilio accepted message %s", message.sid)
        return SendResult(sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        """One page of the newest messages to the number (no DateSent filter: a message not yet sent has
        none), matched on body and ``date_created``; the list call is never followed to a next page."""
        earliest = since - LOOKUP_MARGIN
        try:
            messages = list(self.client.messages.page(to=to_e164, page_size=LOOKUP_PAGE))
        except TwilioRestException as exc:
            raise TemporaryFailure(f"lookup_{_rest_code(exc)}", f"HTTP {exc.status}") from exc
        except requests.RequestException as exc:
            raise TemporaryFailure(f"lookup_{network_failure(exc).code}", type(exc).__name__) from exc
        except TwilioException as exc:  # a list answer other than 200 ("Unable to fetch page", response)
            status = getattr(exc.args[1], "status_code", None) if len(exc.args) > 1 else None
            raise TemporaryFailure(f"lookup_http{status}" if status else "lookup_bad_response",
                                   type(exc).__name__) from exc
        except (ValueError, KeyError) as exc:
            raise TemporaryFailure("lookup_bad_response", type(exc).__name__) from exc
        for message in messages:
            created = message.date_created
            if (str(message.direction or "").startswith("outbound") and (message.body or "").strip() == body.strip()
                    and created is not None and created >= earliest):
                log.info("twilio lookup found message %s", message.sid)
                return SendResult(sid=str(message.sid), status=str(message.status or "queued"))
        if len(messages) >= LOOKUP_PAGE and all(m.date_created is None or m.date_created >= earliest
                                                for m in messages):
            raise TemporaryFailure("lookup_incomplete", f"{LOOKUP_PAGE} newer messages to the number")
        return None
