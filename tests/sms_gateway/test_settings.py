"""SMS settings from the SIPAS_* variables, and the per-unit options."""

from __future__ import annotations

from datetime import time

import pytest

from sipas.models import Unit
from sipas.settings import Settings, SettingsError
from sms_gateway.settings import SmsSettings, invites_all_dossiers, sms_enabled
from tests.sms_gateway.conftest import TWILIO_ENV


def sms(**env: str) -> SmsSettings:
    return SmsSettings.from_settings(Settings.from_env(env, database_url="sqlite://", secret_key="k"))


def test_defaults_are_the_console_provider_and_the_legal_limits() -> None:
    default = sms()
    assert default.provider == "console" and default.twilio_api_base == "https://api.twilio.com"
    assert (default.window_start, default.window_end) == (time(7), time(22))
    assert (default.daily_cap, default.reminder_after_hours, default.expiry_days, default.max_segments) == (3, 48, 7, 1)
    assert default.invite_all_dossiers is False


def test_twilio_settings_and_their_checks() -> None:
    twilio = sms(**TWILIO_ENV, SIPAS_TWILIO_API_BASE="http://127.0.0.1:4010/", SIPAS_SMS_WINDOW_START="08:30")
    assert twilio.twilio_api_base == "http://127.0.0.1:4010" and twilio.window_start == time(8, 30)
    assert twilio.status_callback_url == "https://danhgia.example.gov.vn/sms/twilio/status"
    with pytest.raises(SettingsError, match="SIPAS_TWILIO_AUTH_TOKEN"):
        sms(SIPAS_SMS_PROVIDER="twilio", SIPAS_TWILIO_ACCOUNT_SID="AC1", SIPAS_TWILIO_FROM="+1500")
    with pytest.raises(SettingsError, match="SIPAS_TWILIO_FROM"):
        sms(**{k: v for k, v in TWILIO_ENV.items() if k != "SIPAS_TWILIO_FROM"})
    with pytest.raises(SettingsError, match="SIPAS_SMS_PROVIDER"):
        sms(SIPAS_SMS_PROVIDER="zalo")
    with pytest.raises(SettingsError, match="HH:MM"):
        sms(SIPAS_SMS_WINDOW_END="10pm")
    with pytest.raises(SettingsError, match="giờ bắt đầu gửi phải trước giờ kết thúc"):
        sms(SIPAS_SMS_WINDOW_START="22:00", SIPAS_SMS_WINDOW_END="07:00")
    with pytest.raises(SettingsError, match="SIPAS_SMS_HTTP_API_KEY"):
        sms(SIPAS_SMS_PROVIDER="http")


def test_unit_options_override_the_invite_all_setting() -> None:
    all_by_default = sms(SIPAS_SMS_INVITE_ALL_DOSSIERS="true")
    online_only = sms()
    plain, opted, declined = Unit(options={}), Unit(options={"sms": {"all_dossiers": True}}), Unit(
        options={"sms": {"all_dossiers": False, "enabled": False}})
    assert invites_all_dossiers(all_by_default, plain) and not invites_all_dossiers(online_only, plain)
    assert invites_all_dossiers(online_only, opted) and not invites_all_dossiers(all_by_default, declined)
    assert sms_enabled(plain) and not sms_enabled(declined)
