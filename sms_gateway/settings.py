"""SMS channel settings, parsed from ``settings.env`` (the ``SIPAS_*`` variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from sipas.models import Unit
from sipas.settings import Settings, SettingsError, bad_value, env_bool, env_int, shown

PROVIDERS = ("twilio", "http", "console")
TWILIO_API_BASE = "https://api.twilio.com"
ESMS_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
#: eSMS's balance read (POST {"ApiKey", "SecretKey"}): free, and refused (CodeResponse 101) for a wrong key.
ESMS_BALANCE_URL = "https://rest.esms.vn/MainService.svc/json/GetBalance_json"


def _time(env: Mapping[str, str], name: str, default: str) -> time:
    raw = (env.get(name) or default).strip()
    try:
        hours, minutes = raw.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise bad_value(name, raw, "cần giờ dạng HH:MM, ví dụ 07:30") from exc


@dataclass(frozen=True)
class SmsSettings:
    provider: str = "console"
    public_base_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = TWILIO_API_BASE
    timeout_seconds: int = 15
    window_start: time = time(7, 0)
    window_end: time = time(22, 0)
    daily_cap: int = 3
    reminder_after_hours: int = 48
    expiry_days: int = 7
    max_segments: int = 1
    max_attempts: int = 5
    retry_base_seconds: int = 60
    invite_all_dossiers: bool = False
    brandname: str = "UBND"
    http_url: str = ESMS_URL
    http_balance_url: str = ESMS_BALANCE_URL
    http_api_key: str = ""
    http_secret_key: str = ""
    http_brandname: str = ""
    http_sms_type: str = "2"
    http_sandbox: bool = False
    http_inbound_secret: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsSettings:
        env = settings.env
        provider = (env.get("SIPAS_SMS_PROVIDER") or "console").strip().lower()
        if provider not in PROVIDERS:
            raise bad_value("SIPAS_SMS_PROVIDER", env.get("SIPAS_SMS_PROVIDER", ""),
                            f"chỉ nhận một trong: {', '.join(PROVIDERS)}")
        sms = cls(
            provider=provider,
            public_base_url=settings.public_base_url,
            twilio_account_sid=env.get("SIPAS_TWILIO_ACCOUNT_SID", "").strip(),
            twilio_auth_token=env.get("SIPAS_TWILIO_AUTH_TOKEN", "").strip(),
            twilio_from=env.get("SIPAS_TWILIO_FROM", "").strip(),
            twilio_messaging_service_sid=env.get("SIPAS_TWILIO_MESSAGING_SERVICE_SID", "").strip(),
            twilio_api_base=(env.get("SIPAS_TWILIO_API_BASE") or TWILIO_API_BASE).strip().rstrip("/"),
            timeout_seconds=env_int(env, "SIPAS_SMS_TIMEOUT_SECONDS", 15, minimum=1),
            window_start=_time(env, "SIPAS_SMS_WINDOW_START", "07:00"),
            window_end=_time(env, "SIPAS_SMS_WINDOW_END", "22:00"),
            daily_cap=env_int(env, "SIPAS_SMS_DAILY_CAP", 3, minimum=1),
            reminder_after_hours=env_int(env, "SIPAS_SMS_REMINDER_HOURS", 48, minimum=0),
            expiry_days=env_int(env, "SIPAS_SMS_EXPIRY_DAYS", 7, minimum=1),
            max_segments=env_int(env, "SIPAS_SMS_MAX_SEGMENTS", 1, minimum=1),
            max_attempts=env_int(env, "SIPAS_SMS_MAX_ATTEMPTS", 5, minimum=1),
            retry_base_seconds=env_int(env, "SIPAS_SMS_RETRY_SECONDS", 60, minimum=1),
            invite_all_dossiers=env_bool(env, "SIPAS_SMS_INVITE_ALL_DOSSIERS", False),
            brandname=(env.get("SIPAS_SMS_BRANDNAME") or env.get("SIPAS_SMS_HTTP_BRANDNAME") or "UBND").strip(),
            http_url=(env.get("SIPAS_SMS_HTTP_URL") or ESMS_URL).strip(),
            http_balance_url=(env.get("SIPAS_SMS_HTTP_BALANCE_URL") or ESMS_BALANCE_URL).strip(),
            http_api_key=env.get("SIPAS_SMS_HTTP_API_KEY", "").strip(),
            http_secret_key=env.get("SIPAS_SMS_HTTP_SECRET_KEY", "").strip(),
            http_brandname=env.get("SIPAS_SMS_HTTP_BRANDNAME", "").strip(),
            http_sms_type=(env.get("SIPAS_SMS_HTTP_SMS_TYPE") or "2").strip(),
            http_sandbox=env_bool(env, "SIPAS_SMS_HTTP_SANDBOX", False),
            http_inbound_secret=env.get("SIPAS_SMS_HTTP_INBOUND_SECRET", "").strip(),
        )
        sms.validate()
        return sms

    def validate(self) -> None:
        start, end = f"{self.window_start:%H:%M}", f"{self.window_end:%H:%M}"
        if self.window_start >= self.window_end:
            raise SettingsError(f"{shown({'SIPAS_SMS_WINDOW_START': start, 'SIPAS_SMS_WINDOW_END': end})}"
                                " — giờ bắt đầu gửi phải trước giờ kết thúc", variable="SIPAS_SMS_WINDOW_START",
                                value=start)
        provider = f"SIPAS_SMS_PROVIDER = {self.provider!r}"
        if self.provider == "twilio":
            missing = [name for name, value in (("SIPAS_TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                                                ("SIPAS_TWILIO_AUTH_TOKEN", self.twilio_auth_token)) if not value]
            if missing:
                raise SettingsError(f"{provider} — thiếu {' và '.join(missing)} (bắt buộc khi gửi qua Twilio)",
                                    variable=missing[0], value="")
            if not (self.twilio_from or self.twilio_messaging_service_sid):
                raise SettingsError(f"{provider} — cần SIPAS_TWILIO_FROM hoặc SIPAS_TWILIO_MESSAGING_SERVICE_SID "
                                    "(số gửi hoặc dịch vụ nhắn tin của Twilio)", variable="SIPAS_TWILIO_FROM", value="")
        if self.provider == "http":
            missing = [name for name, value in (("SIPAS_SMS_HTTP_API_KEY", self.http_api_key),
                                                ("SIPAS_SMS_HTTP_SECRET_KEY", self.http_secret_key),
                                                ("SIPAS_SMS_HTTP_BRANDNAME", self.http_brandname)) if not value]
            if missing:
                raise SettingsError(f"{provider} — thiếu {', '.join(missing)} (bắt buộc khi gửi qua nhà cung cấp "
                                    "brandname)", variable=missing[0], value="")

    @property
    def status_callback_url(self) -> str:
        return f"{self.public_base_url}/sms/twilio/status"

    def status_callback_for(self, outbound_id: int) -> str:
        """``?o=<outbound id>``: a late report then resolves a send whose outcome was unknown (no sid yet).
        Twilio signs the URL with its query; the webhook checks it as sent."""
        return f"{self.status_callback_url}?o={outbound_id}"


def unit_sms_options(unit: Unit) -> dict[str, Any]:
    options = (unit.options or {}).get("sms")
    return options if isinstance(options, dict) else {}


def invites_all_dossiers(sms: SmsSettings, unit: Unit) -> bool:
    """Online dossiers only, unless the unit (``options["sms"]["all_dossiers"]``) or the setting says all."""
    value = unit_sms_options(unit).get("all_dossiers")
    return sms.invite_all_dossiers if value is None else bool(value)


def sms_enabled(unit: Unit) -> bool:
    return unit_sms_options(unit).get("enabled", True) is not False
