"""A local Zalo ZNS server that behaves as tests/contracts/zalo/zalo-zns.md says, on 127.0.0.1.

No public mock exists (contract §6), so this one keeps the state the contract describes in one place:
access tokens that expire (-124) and rotate on refresh (a reused refresh token is refused, -14014; the
old access token dies), a registry of phones with Zalo (others: -118), templates with a status (-131)
and parameter limits measured after NFC (-1121 too long, -1122 missing), a daily quota (-144), the
night ban 22:00–06:00 Vietnam time (-133), and signed event callbacks (``user_received_message``,
``user_feedback``) built or posted to the app. Errors are HTTP 200 with a negative ``error``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

VN = ZoneInfo("Asia/Ho_Chi_Minh")
APP_ID = "2074138120372622546"
APP_SECRET = "mock-app-secret"
OA_SECRET = "mock-oa-secret-key"
OA_ID = "579745863508352884"
TEMPLATE_ID = "236719"
ACCESS_LIFETIME = timedelta(seconds=90_000)


def error(code: int, message: str) -> Response:
    return jsonify({"error": code, "message": message})


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass
class Template:
    status: str = "ENABLE"  # PENDING_REVIEW | ENABLE | REJECT | DISABLE
    params: dict[str, tuple[str, int, bool]] = field(default_factory=lambda: {
        "don_vi": ("name", 30, True), "ma_ho_so": ("code", 30, True), "link": ("URL", 200, True)})
    template_type: int = 1


@dataclass
class ZnsMock:
    """The service's state; tests arrange it (phones, templates, quota, clock) and read what was sent."""

    url: str = ""
    phones: set[str] = field(default_factory=set)
    templates: dict[str, Template] = field(default_factory=lambda: {TEMPLATE_ID: Template()})
    daily_quota: int = 500
    used_today: int = 0
    now: datetime | None = None  # None: the real clock
    access: dict[str, datetime] = field(default_factory=dict)  # token → expiry
    refresh: dict[str, bool] = field(default_factory=dict)  # token → still usable
    messages: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    refresh_calls: int = 0
    http_failures: list[int] = field(default_factory=list)  # the next send calls answer these HTTP statuses
    lost_answers: int = 0  # the next sends are taken, but the answer is lost (HTTP 502): an ambiguous outcome
    # the next refreshes are rate limited, the refresh token untouched: HTTP 429, or 200, each with error -32
    refresh_limited: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> datetime:
        return self.now or datetime.now(VN)

    def grant(self) -> tuple[str, str]:
        """A fresh pair, as the consent flow would give it."""
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = self.clock() + ACCESS_LIFETIME
        self.refresh[refresh] = True
        return access, refresh

    def expire_access_tokens(self) -> None:
        for token in self.access:
            self.access[token] = self.clock() - timedelta(seconds=1)

    # --- events --------------------------------------------------------------------------------------------
    def signed_event(self, payload: dict[str, Any], *, secret: str = OA_SECRET, first: str = "app_id",
                     timestamp: datetime | None = None) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Zalo would POST: ``mac=`` + sha256(app_id + body + timestamp + secret).
        Stamped with the wall clock (when it is posted), whatever ``now`` the sends were given."""
        stamp = epoch_ms(timestamp or datetime.now(VN))
        payload = {"app_id": APP_ID, "oa_id": OA_ID, **payload, "timestamp": stamp}
        body = json.dumps(payload, ensure_ascii=False).encode()
        lead = APP_ID if first == "app_id" else OA_ID
        mac = hashlib.sha256(lead.encode() + body + stamp.encode() + secret.encode()).hexdigest()
        return body, {"X-ZEvent-Signature": f"mac={mac}", "X-ZEvent-Server": "ZNS", "Content-Type": "application/json"}

    def delivery_event(self, msg_id: str, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        sent = next(m for m in self.messages if m["msg_id"] == msg_id)
        return self.signed_event({
            "sender": {"id": OA_ID}, "recipient": {"id": sent["phone"]}, "event_name": "user_received_message",
            "message": {"delivery_time": epoch_ms(self.clock()), "msg_id": msg_id, "tracking_id": sent["tracking_id"]},
        }, **kwargs)

    def feedback_event(self, msg_id: str, rate: int, *, note: str = "", feedbacks: list[str] | None = None,
                       **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        sent = next(m for m in self.messages if m["msg_id"] == msg_id)
        rating = {"note": note, "rate": rate, "submit_time": epoch_ms(self.clock()), "msg_id": msg_id,
                  "feedbacks": feedbacks or [], "tracking_id": sent["tracking_id"]}
        self.ratings.append(rating | {"template_id": sent["template_id"]})
        return self.signed_event({"event_name": "user_feedback", "message": rating}, **kwargs)

    def post_event(self, url: str, event: tuple[bytes, dict[str, str]]) -> requests.Response:
        body, headers = event
        return requests.post(url, data=body, headers=headers, timeout=10)

    # --- rules ---------------------------------------------------------------------------------------------
    def token_error(self) -> Response | None:
        token = request.headers.get("access_token", "")
        expiry = self.access.get(token)
        if expiry is None or expiry <= self.clock():
            return error(-124, "Access token invalid")
        return None

    def send(self) -> Response:
        if self.http_failures:
            return Response("upstream error", status=self.http_failures.pop(0))
        refused = self.token_error()
        if refused is not None:
            return refused
        try:
            body = json.loads(request.get_data() or b"")
        except ValueError:
            return error(-122, "Body is not JSON")
        if not isinstance(body, dict) or not body:
            return error(-121, "Body is empty")
        phone = str(body.get("phone") or "")
        phone = "84" + phone[1:] if phone.startswith("0") else phone.lstrip("+")
        if not (phone.startswith("84") and len(phone) == 11 and phone.isdigit()):
            return error(-108, "Phone number is invalid")
        template = self.templates.get(str(body.get("template_id") or ""))
        if template is None:
            return error(-109, "Template id is invalid")
        if template.status != "ENABLE":
            return error(-131, "Template is not approved")
        data = body.get("template_data")
        if not isinstance(data, dict) or not data:
            return error(-111, "Template data is empty")
        for name, (_type, limit, required) in template.params.items():
            value = data.get(name)
            if value in (None, "") and required:
                return error(-1122, f"Missing parameter {name}")
            if value is not None and len(unicodedata.normalize("NFC", str(value))) > limit:
                return error(-1121, f"Parameter {name} exceeds max length")
        tracking = str(body.get("tracking_id") or "")
        if len(tracking) > 48 or not tracking.replace("_", "").replace("-", "").isalnum():
            return error(-132, "tracking_id is invalid")
        local = self.clock().astimezone(VN).time()
        if local >= time(22, 0) or local < time(6, 0):
            return error(-133, "Cannot send ZNS at night (22:00-06:00)")
        if self.used_today >= self.daily_quota:
            return error(-144, "OA has exceeded the daily quota")
        if phone not in self.phones:
            return error(-118, "Zalo account not existed")
        self.used_today += 1
        msg_id = secrets.token_hex(10)
        self.messages.append({"msg_id": msg_id, "phone": phone, "template_id": body["template_id"],
                              "template_data": data, "tracking_id": tracking, "sent_time": epoch_ms(self.clock())})
        if self.lost_answers:
            self.lost_answers -= 1
            return Response("bad gateway", status=502)
        return jsonify({"error": 0, "message": "Success", "data": {
            "msg_id": msg_id, "sent_time": epoch_ms(self.clock()), "sending_mode": "1",
            "quota": {"dailyQuota": str(self.daily_quota), "remainingQuota": str(self.daily_quota - self.used_today)}}})

    def oauth(self) -> Response:
        self.refresh_calls += 1
        if self.refresh_limited:
            limited = jsonify({"error": -32, "message": "Too many requests"})
            limited.status_code = self.refresh_limited.pop(0)
            return limited
        if request.headers.get("secret_key") != APP_SECRET or request.form.get("app_id") != APP_ID:
            return jsonify({"error": -14002, "error_name": "Invalid app id", "error_description": "app/secret"})
        if request.form.get("grant_type") != "refresh_token":
            return jsonify({"error": -14003, "error_name": "Unsupported grant"})
        token = request.form.get("refresh_token", "")
        if not self.refresh.get(token):
            return jsonify({"error": -14014, "error_name": "Invalid refresh token",
                            "error_description": "Refresh token is invalid or already used"})
        self.refresh[token] = False  # single use
        self.access.clear()  # the old access token dies with the refresh (contract §2, [U])
        access, refresh = self.grant()
        return jsonify({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    def quota(self) -> Response:
        return self.token_error() or jsonify({"error": 0, "message": "Success", "data": {
            "dailyQuota": self.daily_quota, "remainingQuota": self.daily_quota - self.used_today}})

    def rating_get(self) -> Response:
        refused = self.token_error()
        if refused is not None:
            return refused
        template_id = request.args.get("template_id", "")
        start, end = int(request.args.get("from_time", 0)), int(request.args.get("to_time", 2**62))
        offset, limit = int(request.args.get("offset", 0)), min(int(request.args.get("limit", 100)), 10_000)
        rows = [r for r in self.ratings if r["template_id"] == template_id and start <= int(r["submit_time"]) <= end]
        page = [{"note": r["note"], "rate": r["rate"], "submitDate": r["submit_time"], "msgId": r["msg_id"],
                 "feedbacks": r["feedbacks"], "trackingId": r["tracking_id"], "oaId": OA_ID}
                for r in rows[offset:offset + limit]]
        if self.lost_answers:
            self.lost_answers -= 1
            return Response("bad gateway", status=502)
        return jsonify({"error": 0, "message": "Success", "data": {"total": len(rows), "data": page}})

    def app(self) -> Flask:
        app = Flask("zns_mock")

        def locked(view: Any) -> Any:
            def run() -> Response:
                with self.lock:
                    return view()
            run.__name__ = view.__name__
            return run

        app.add_url_rule("/message/template", view_func=locked(self.send), methods=["POST"])
        app.add_url_rule("/v4/oa/access_token", view_func=locked(self.oauth), methods=["POST"])
        app.add_url_rule("/message/quota", view_func=locked(self.quota), methods=["GET"])
        app.add_url_rule("/rating/get", view_func=locked(self.rating_get), methods=["GET", "POST"])
        return app


class UnderscoreHeaders(WSGIRequestHandler):
    """Zalo's headers are ``access_token`` and ``secret_key``; Werkzeug's server drops names with ``_``."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ["HTTP_" + key.upper().replace("-", "_")] = value
        return environ


@pytest.fixture
def zns() -> Iterator[ZnsMock]:
    """The mock, listening on a free 127.0.0.1 port for one test."""
    mock = ZnsMock()
    server = make_server("127.0.0.1", 0, mock.app(), threaded=True, request_handler=UnderscoreHeaders)
    mock.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mock
    finally:
        server.shutdown()
        thread.join(timeout=10)
