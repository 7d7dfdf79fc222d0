"""The demo provider: nothing leaves the machine; the outbound table is the outbox.

It never fails, so no outcome is ambiguous and it needs no ``find_sent``."""

from __future__ import annotations

import secrets

from sms_gateway.providers.base import SendResult, SmsProvider


class ConsoleProvider(SmsProvider):
    name = "console"

    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        return SendResult(sid="CONSOLE" + secrets.token_hex(12), status="delivered")
