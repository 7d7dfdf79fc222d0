"""A Vietnamese brandname SMS provider over HTTP, shaped like eSMS.vn's JSON API.

One JSON POST per message with ApiKey, SecretKey, Brandname, SmsType ("2" = customer care) and
Sandbox; the answer carries ``CodeResult`` ("100" = accepted) and ``SMSID``. ``RequestId`` is stable
for one invitation or reminder, so the provider refuses a retry of a message it already took (24 h
window; code 124), which is then counted as sent: after an ambiguous failure (read timeout, 5xx, an
unreadable answer) the same request is simply sent again (``deduplicates_requests``).
Other providers with the same shape (SpeedSMS, VNPT, Viettel) fit by subclassing and mapping codes.
"""

from __future__ import annotations

import logging

import phonenumbers
import requests

from sms_gateway.encoding import analyse
from sms_gateway.providers.base import PermanentFailure, SendResult, SmsProvider, TemporaryFailure
from sms_gateway.providers.network import network_failure
from sms_gateway.settings import SmsSettings

log = logging.getLogger(__name__)

ACCEPTED = "100"
BLOCKED = "99"  # the number is on the provider's block list: treated as an opt-out
BAD_NUMBER = "108"  # phone number not in a correct format
TEMPORARY_CODES = {"103"}  # balance too low: worth retrying once topped up
DUPLICATE_REQUEST = "124"  # the provider already took this RequestId: the message went out once
DESCRIPTIONS = {
    "99": "số điện thoại bị chặn trên hệ thống nhà cung cấp",
    "101": "sai ApiKey hoặc SecretKey",
    "102": "chưa có bảng giá",
    "103": "số dư tài khoản không đủ",
    "104": "brandname chưa được đăng ký",
    "108": "số điện thoại sai định dạng",
    "118": "loại tin nhắn không được hỗ trợ",
    "124": "RequestId đã được gửi trước đó",
    "140": "địa chỉ IP chưa được cho phép",
    "146": "nội dung không khớp mẫu tin chăm sóc khách hàng đã đăng ký",
    "177": "nhà mạng chưa được đăng ký",
}

def national_number(to_e164: str) -> str:
    """"+84901234567" → "0901234567" (the format Vietnamese providers expect)."""
    parsed = phonenumbers.parse(to_e164, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


class HttpBrandnameProvider(SmsProvider):
    name = "http"
    deduplicates_requests = True

    def __init__(self, settings: SmsSettings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()

    def payload(self, to_e164: str, body: str, *, status_callback: str | None, request_id: str | None) -> dict:
        payload = {
            "ApiKey": self.settings.http_api_key,
            "SecretKey": self.settings.http_secret_key,
            "Brandname": self.settings.http_brandname,
            "SmsType": self.settings.http_sms_type,
            "Phone": national_number(to_e164),
            "Content": body,
            "IsUnicode": "1" if analyse(body).is_unicode else "0",
            "Sandbox": "1" if self.settings.http_sandbox else "0",
        }
        if request_id:
            payload["RequestId"] = request_id[:50]
        if status_callback:
            payload["CallbackUrl"] = status_callback
        return payload

    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        try:
            payload = self.payload(to_e164, body, status_callback=status_callback, request_id=request_id)
        except phonenumbers.NumberParseException as exc:
            raise PermanentFailure("invalid_number", "unparsable number", invalid_number=True) from exc
        try:
            answer = self.session.post(self.settings.http_url, json=payload, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise network_failure(exc) from exc
        if answer.status_code == 429:
            raise TemporaryFailure("http429")
        if answer.status_code >= 500:
            raise TemporaryFailure(f"http{answer.status_code}", may_have_sent=True)
        try:
            data = answer.json()
        except ValueError as exc:
            raise TemporaryFailure(f"http{answer.status_code}", "not JSON", may_have_sent=True) from exc
        code = str(data.get("CodeResult", "")) if isinstance(data, dict) else ""
        if code == ACCEPTED:
            return SendResult(sid=str(data.get("SMSID") or request_id or ""), status="accepted")
        if code == DUPLICATE_REQUEST and request_id:
            return SendResult(sid=request_id, status="accepted")  # a retry of a message it already took
        detail = DESCRIPTIONS.get(code, "mã lỗi không xác định")
        if not code:
            raise TemporaryFailure(f"esms{answer.status_code}", "no CodeResult", may_have_sent=True)
        if code in TEMPORARY_CODES:
            raise TemporaryFailure(f"esms{code}", detail)
        raise PermanentFailure(f"esms{code}", detail, opted_out=code == BLOCKED, invalid_number=code == BAD_NUMBER)
