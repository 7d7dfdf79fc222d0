"""Fixtures of the SMS tests: Twilio-configured settings, a recording provider, a returned dossier."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest

from sipas.settings import Settings
from sms_gateway.providers import PermanentFailure, SendResult, SmsProvider, TemporaryFailure
from tests.factories import SECRET

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "12345678901234567890123456789012"
PUBLIC = "https://danhgia.example.gov.vn"
PHONE = "+84912345678"
_sids = itertools.count(1)
TWILIO_ENV = {
    "SIPAS_SMS_PROVIDER": "twilio",
    "SIPAS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "SIPAS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "SIPAS_TWILIO_FROM": "+15005550006",
    "SIPAS_PUBLIC_BASE_URL": PUBLIC,
}


def make_settings(database_url: str, tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(TWILIO_ENV | env, database_url=database_url, secret_key=SECRET,
                             instance_dir=tmp_path / "instance", secure_cookies=False, testing=True)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


class RecordingProvider(SmsProvider):
    """Records what it was asked to send and look up; can be told how the next calls fail
    (``failures``) and what the next lookups answer (``lookups``: a result, None or an exception)."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.calls: list[dict] = []  # every send attempt, failed ones included
        self.failures: list[Exception | BaseException | None] = []  # None: that call succeeds
        self.lookups: list[SendResult | Exception | None] = []
        self.looked_up: list[tuple[str, str, datetime]] = []

    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        self.calls.append({"to": to_e164, "status_callback": status_callback, "request_id": request_id})
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.sent.append((to_e164, body))
        return SendResult(sid=f"SM{next(_sids):032d}", status="queued")

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        self.looked_up.append((to_e164, body, since))
        answer = self.lookups.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


__all__ = ["PermanentFailure", "TemporaryFailure"]
