"""Canned HTTP answers for the providers: a ``twilio.http.HttpClient`` and a ``requests.Session``."""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

import requests
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from tests.sms_gateway.conftest import ACCOUNT_SID, PHONE

CREATED = {"sid": "SM" + "f" * 32, "status": "queued", "to": PHONE, "body": "x"}
Reply = tuple[int, object] | Exception | Callable[[list[dict]], "Reply"]


class CannedHttpClient(HttpClient):
    """Answers each request with the next canned reply: (status, body) with a JSON-able or raw str
    body, an exception to raise, or a function of the requests so far returning one of those.
    Records every request it was asked to make."""

    def __init__(self, *replies: Reply) -> None:
        super().__init__(logging.getLogger("canned"), is_async=False, timeout=5)
        self.replies = list(replies)
        self.requests: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,  # type: ignore[no-untyped-def]
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "params": params, "data": data})
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(self.requests)
        if isinstance(reply, Exception):
            raise reply
        status, body = reply  # type: ignore[misc]
        return TwilioResponse(status, body if isinstance(body, str) else jsonlib.dumps(body))

    @property
    def methods(self) -> list[str]:
        return [r["method"] for r in self.requests]


def twilio_error(code: int, status: int = 400) -> tuple[int, dict]:
    return status, {"code": code, "message": "refused", "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


def listed(body: str, created: datetime, *, sid: str = "SM" + "e" * 32, status: str = "sent",
           direction: str = "outbound-api") -> dict:
    """One message as Twilio lists it."""
    return {"sid": sid, "account_sid": ACCOUNT_SID, "body": body, "to": PHONE, "from": "+15005550006",
            "direction": direction, "status": status, "date_created": format_datetime(created, usegmt=True),
            "date_sent": None, "num_segments": "1"}


def listing(*messages: dict) -> tuple[int, dict]:
    """A page of Twilio's message list (newest first), without a next page."""
    uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?To=%2B84912345678&PageSize=20&Page=0"
    return 200, {"messages": list(messages), "page": 0, "page_size": 20, "start": 0, "end": max(len(messages) - 1, 0),
                 "uri": uri, "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None}


class CannedSession(requests.Session):
    def __init__(self, *replies: Reply) -> None:
        super().__init__()
        self.replies = list(replies)
        self.posted: list[dict] = []

    def post(self, url, json=None, timeout=None, **kwargs):  # type: ignore[no-untyped-def,override]
        self.posted.append(json)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        response = requests.Response()
        body = reply[1]
        response.status_code = reply[0]
        response._content = (body if isinstance(body, str) else jsonlib.dumps(body)).encode()
        return response
