"""SMS providers behind one interface, chosen by ``SIPAS_SMS_PROVIDER``."""

from __future__ import annotations

from sms_gateway.providers.base import (
    INVALID_NUMBER,
    OPTED_OUT,
    PermanentFailure,
    SendResult,
    SmsError,
    SmsProvider,
    TemporaryFailure,
)
from sms_gateway.providers.console import ConsoleProvider
from sms_gateway.settings import SmsSettings

__all__ = ["INVALID_NUMBER", "OPTED_OUT", "ConsoleProvider", "PermanentFailure", "SendResult", "SmsError",
           "SmsProvider", "TemporaryFailure", "build_provider"]


def build_provider(settings: SmsSettings) -> SmsProvider:
    if settings.provider == "twilio":
        from sms_gateway.providers.twilio_provider import TwilioProvider

        return TwilioProvider(settings)
    if settings.provider == "http":
        from sms_gateway.providers.http_brandname import HttpBrandnameProvider

        return HttpBrandnameProvider(settings)
    return ConsoleProvider()
