"""Zalo Notification Service (ZNS, "ZBS Template Message"): template messages to a phone number.

The wire contract (tests/contracts/zalo/zalo-zns.md): ``POST {api}/message/template`` with the bare
``access_token`` header and ``phone`` (84 + 9 digits), ``template_id``, ``template_data``,
``tracking_id``. Errors come back as HTTP 200 with a negative ``error``; each code is mapped to one
action (``ERRORS``), matched on the code, never the text:

- ``retry``: worth the same call later (the usual backoff);
- ``fall_back``: this citizen cannot receive Zalo: the invitation goes out once by the unit's SMS provider;
- ``reschedule``: a quota or the night ban: sent again at the next opening of the Zalo window;
- ``refresh``: the access token was refused: refreshed once (single-flight) and the call repeated;
- ``alert``: our configuration or template is wrong: a console notice, and the invitation falls back to SMS.

A read timeout, a 5xx or an unreadable answer is ambiguous: Zalo may have the message and cannot be
asked by tracking id, so it is never sent again blind (``find_sent`` cannot tell, the usual
reconciliation gives up) unless the delivery event resolves it meanwhile; nor does it fall back to SMS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol

import requests

from sms_gateway.providers.base import PermanentFailure, SendResult, SmsProvider, TemporaryFailure
from sms_gateway.providers.network import network_failure
from sms_gateway.zalo_settings import ZaloSettings

log = logging.getLogger(__name__)

RETRY, FALL_BACK, RESCHEDULE, REFRESH, ALERT = "retry", "fall_back", "reschedule", "refresh", "alert"
#: Zalo error code → (action, what it means, in Vietnamese for the console).
ERRORS: dict[int, tuple[str, str]] = {
    -32: (RETRY, "vượt giới hạn số lần gọi API"),
    -100: (RETRY, "lỗi không xác định phía Zalo"),
    -101: (ALERT, "ứng dụng không hợp lệ"),
    -102: (ALERT, "ứng dụng không tồn tại"),
    -103: (ALERT, "ứng dụng chưa được kích hoạt"),
    -104: (ALERT, "app secret không hợp lệ"),
    -105: (ALERT, "ứng dụng chưa liên kết với OA"),
    -106: (ALERT, "phương thức không được hỗ trợ"),
    -107: (ALERT, "mã tin nhắn không hợp lệ"),
    -108: (FALL_BACK, "số điện thoại không hợp lệ"),
    -109: (ALERT, "mã mẫu tin (template id) không hợp lệ"),
    -110: (FALL_BACK, "phiên bản Zalo của người nhận không hỗ trợ"),
    -111: (ALERT, "dữ liệu mẫu tin trống"),
    -112: (ALERT, "dữ liệu mẫu tin không hợp lệ"),
    -1121: (ALERT, "tham số vượt quá độ dài cho phép"),
    -1122: (ALERT, "thiếu tham số bắt buộc"),
    -1124: (ALERT, "tham số sai định dạng"),
    -113: (ALERT, "nút bấm không hợp lệ"),
    -114: (FALL_BACK, "người nhận không nhận được tin (không hoạt động, đã tắt nhận tin hoặc Zalo cũ)"),
    -115: (RESCHEDULE, "hết hạn mức hoặc số dư tài khoản ZNS"),
    -116: (ALERT, "nội dung không hợp lệ"),
    -117: (ALERT, "OA không có quyền dùng mẫu tin này"),
    -118: (FALL_BACK, "số điện thoại chưa có tài khoản Zalo"),
    -119: (FALL_BACK, "tài khoản Zalo không nhận được tin"),
    -120: (ALERT, "OA chưa có tính năng này"),
    -121: (ALERT, "nội dung yêu cầu trống"),
    -122: (ALERT, "nội dung yêu cầu không phải JSON"),
    -124: (REFRESH, "access token không hợp lệ"),
    -1241: (ALERT, "appsecret_proof không hợp lệ"),
    -125: (ALERT, "OA id không hợp lệ"),
    -126: (RESCHEDULE, "hết hạn mức gửi thử (chế độ development)"),
    -127: (ALERT, "chế độ development chỉ gửi được cho quản trị viên"),
    -130: (ALERT, "nội dung vượt quá 100.000 ký tự"),
    -131: (ALERT, "mẫu tin chưa được duyệt"),
    -132: (ALERT, "tham số không hợp lệ"),
    -133: (RESCHEDULE, "Zalo không gửi tin trong khung 22:00–06:00"),
    -135: (ALERT, "OA chưa được phép gửi ZNS"),
    -1351: (ALERT, "OA bị chặn gửi ZNS"),
    -136: (ALERT, "chưa liên kết tài khoản Zalo Cloud"),
    -137: (ALERT, "không trừ được tiền tài khoản Zalo Cloud"),
    -138: (ALERT, "ứng dụng chưa có quyền gửi ZNS"),
    -139: (FALL_BACK, "người nhận từ chối loại tin này"),
    -140: (FALL_BACK, "người nhận không đủ điều kiện nhận tin"),
    -141: (FALL_BACK, "người nhận đã từ chối tin từ OA"),
    -144: (RESCHEDULE, "OA đã hết hạn mức gửi trong ngày"),
    -1441: (RESCHEDULE, "OA đã hết hạn mức gửi trong ngày"),
    -145: (ALERT, "loại nội dung không được phép"),
    -146: (ALERT, "mẫu tin bị vô hiệu do chất lượng thấp"),
    -147: (RESCHEDULE, "mẫu tin đã hết hạn mức gửi trong ngày"),
    -1471: (RESCHEDULE, "mẫu tin đã hết hạn mức gửi trong ngày cho người nhận này"),
    -1472: (RESCHEDULE, "mẫu tin đã hết hạn mức gửi trong ngày cho người nhận này"),
}
UNKNOWN_CODE = (ALERT, "mã lỗi Zalo chưa biết")
NIGHT_BAN = -133
#: Parameter limits of the invitation template (Zalo's types: name 30, code 30, URL 200), after NFC.
PARAM_LIMITS = {"don_vi": 30, "ma_ho_so": 30, "link": 200}


def action_for(code: int) -> tuple[str, str]:
    return ERRORS.get(code, UNKNOWN_CODE)


def error_code(data: Mapping[str, Any]) -> int | None:
    """The answer's ``error`` as a number (Zalo sends an int, some copies a string), None when it is unreadable
    (null, text, missing): such an answer is ambiguous, never read as a success or as a given error."""
    raw = data.get("error")
    if isinstance(raw, bool):
        return None
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity, which Python's JSON reads
        return None


class ZaloFallback(PermanentFailure):
    """Zalo will not carry this invitation: send it once by the unit's SMS provider.

    ``alert``: the cause is ours (configuration, template, token) and the console must say so."""

    def __init__(self, code: str, detail: str = "", *, alert: bool = False) -> None:
        super().__init__(code, detail, opted_out=False, invalid_number=False)
        self.alert = alert


class ZaloReschedule(TemporaryFailure):
    """A quota or the night ban: not an attempt at the message; it waits for the next opening of the window
    (``night``: later today if the window has not opened yet, else tomorrow; a quota: tomorrow)."""

    def __init__(self, code: str, detail: str = "", *, night: bool = False) -> None:
        super().__init__(code, detail)
        self.night = night


class TokenUnavailable(Exception):
    """No usable OA access token (never granted, or the refresh was refused): Zalo cannot be used now."""


class TokenSource(Protocol):
    def current(self) -> str:
        """A valid access token (refreshed ahead of expiry); raise ``TokenUnavailable``."""

    def refreshed(self, rejected: str) -> str:
        """A new access token after Zalo refused ``rejected`` (-124); raise ``TokenUnavailable``."""


def zalo_phone(to_e164: str) -> str | None:
    """"+84912345678" → "84912345678"; None for a number that is not Vietnamese (84 + 9 digits)."""
    digits = to_e164.lstrip("+")
    return digits if digits.startswith("84") and len(digits) == 11 and digits.isdigit() else None


def template_body(template_id: str, data: Mapping[str, str]) -> str:
    """What the outbound row records for a Zalo message (and what ``send`` reads back): plain JSON."""
    return json.dumps({"template_id": template_id, "template_data": dict(data)}, ensure_ascii=False, sort_keys=True)


def too_long(data: Mapping[str, str]) -> list[str]:
    return [name for name, limit in PARAM_LIMITS.items()
            if len(unicodedata.normalize("NFC", data.get(name, ""))) > limit]


class ZaloClient:
    """The HTTP calls, each answering the decoded JSON object or raising a provider error."""

    def __init__(self, settings: ZaloSettings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()

    def _headers(self, token: str) -> dict[str, str]:
        proof = hmac.new(self.settings.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        return {"access_token": token, "appsecret_proof": proof}

    def _answer(self, answer: requests.Response) -> dict[str, Any]:
        if answer.status_code == 429:
            raise TemporaryFailure("http429")
        if answer.status_code >= 500:
            raise TemporaryFailure(f"http{answer.status_code}", may_have_sent=True)
        try:
            data = answer.json()
        except ValueError as exc:
            raise TemporaryFailure(f"http{answer.status_code}", "not JSON", may_have_sent=True) from exc
        if not isinstance(data, dict) or "error" not in data:
            raise TemporaryFailure(f"http{answer.status_code}", "no error field", may_have_sent=True)
        return data

    def send_template(self, token: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        try:
            answer = self.session.post(f"{self.settings.api_base}/message/template", json=dict(payload),
                                       headers=self._headers(token), timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise network_failure(exc) from exc
        return self._answer(answer)

    def get(self, token: str, path: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        """A read call (``/message/quota``, ``/message/status``, ``/rating/get``): nothing is created."""
        try:
            answer = self.session.get(f"{self.settings.api_base}{path}", params=dict(params),
                                      headers=self._headers(token), timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise network_failure(exc) from exc
        data = self._answer(answer)
        code = error_code(data)
        if code == 0:
            return data
        if code is None:
            raise TemporaryFailure("zalo_bad_answer", "error is not a number", may_have_sent=True)
        raise TemporaryFailure(f"zalo{code}", action_for(code)[1])

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Exchange the single-use refresh token: the answer (``access_token``, ``refresh_token``,
        ``expires_in``) or ``{"error": …}`` (a refused refresh token, -14xxx). What is worth the same call later
        raises ``TemporaryFailure`` and leaves the grant usable: network failures, a 5xx or an unreadable answer,
        a rate limit (HTTP 429, or an ``error`` that ``ERRORS`` maps to ``retry``, e.g. -32)."""
        try:
            answer = self.session.post(
                f"{self.settings.oauth_base}/v4/oa/access_token",
                data={"refresh_token": refresh_token, "app_id": self.settings.app_id, "grant_type": "refresh_token"},
                headers={"secret_key": self.settings.app_secret}, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise network_failure(exc) from exc
        if answer.status_code == 429:  # rate limited: the refresh token was not exchanged
            raise TemporaryFailure("http429", "rate limited")
        if answer.status_code >= 500:
            raise TemporaryFailure(f"http{answer.status_code}", may_have_sent=True)
        try:
            data = answer.json()
        except ValueError as exc:
            raise TemporaryFailure(f"http{answer.status_code}", "not JSON", may_have_sent=True) from exc
        if not isinstance(data, dict):
            raise TemporaryFailure(f"http{answer.status_code}", "not an object", may_have_sent=True)
        code = error_code(data)
        if code is not None and code in ERRORS and ERRORS[code][0] == RETRY:
            raise TemporaryFailure(f"zalo{code}", ERRORS[code][1])
        return data


class ZaloProvider(SmsProvider):
    """Sends the invitation template; the message "body" is ``template_body(...)`` JSON and the
    ``request_id`` the tracking id (the invitation's id), echoed by Zalo in its events."""

    name = "zalo"

    def __init__(self, client: ZaloClient, tokens: TokenSource) -> None:
        self.client = client
        self.tokens = tokens

    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        phone = zalo_phone(to_e164)
        if phone is None:
            raise ZaloFallback("zalo_not_vn", "số không phải số di động Việt Nam")
        message = json.loads(body)
        longer = too_long(message["template_data"])
        if longer:
            raise ZaloFallback("zalo_param_length", f"tham số quá dài: {', '.join(longer)}", alert=True)
        payload = {"phone": phone, "template_id": message["template_id"], "template_data": message["template_data"]}
        if request_id:
            payload["tracking_id"] = request_id[:48]
        try:
            token = self.tokens.current()
            data = self.client.send_template(token, payload)
            if error_code(data) == -124:
                log.info("Zalo refused the access token (-124): refreshing once")
                data = self.client.send_template(self.tokens.refreshed(token), payload)
        except TokenUnavailable as exc:  # the token store has noted it for the console already
            raise ZaloFallback("zalo_token", str(exc)) from exc
        return self._result(data)

    @staticmethod
    def _result(data: Mapping[str, Any]) -> SendResult:
        code = error_code(data)
        if code is None:
            raise TemporaryFailure("zalo_bad_answer", "error is not a number", may_have_sent=True)
        if code == 0:
            inner = data.get("data") if isinstance(data.get("data"), dict) else {}
            msg_id = str(inner.get("msg_id") or "")
            if not msg_id:
                raise TemporaryFailure("zalo_bad_answer", "no msg_id", may_have_sent=True)
            return SendResult(sid=msg_id, status="sent")
        action, detail = action_for(code)
        name = f"zalo{code}"
        if action == RETRY:
            raise TemporaryFailure(name, detail)
        if action == RESCHEDULE:
            raise ZaloReschedule(name, detail, night=code == NIGHT_BAN)
        if action == FALL_BACK:
            raise ZaloFallback(name, detail)
        raise ZaloFallback(name, detail, alert=True)  # ALERT, or -124 again right after a refresh
