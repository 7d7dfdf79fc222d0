"""The one interface every SMS provider implements, and its typed errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

OPTED_OUT = "21610"  # Twilio: "Attempt to send to unsubscribed recipient"
INVALID_NUMBER = "21211"  # Twilio: "Invalid 'To' Phone Number"


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class SmsError(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class PermanentFailure(SmsError):
    """The provider refused the message for good: do not retry this number."""

    @property
    def opted_out(self) -> bool:
        return self.code == OPTED_OUT

    @property
    def invalid_number(self) -> bool:
        return self.code == INVALID_NUMBER


class TemporaryFailure(SmsError):
    """5xx, 429, timeouts and connection errors: retry later with backoff."""


class SmsProvider(ABC):
    name: str = "base"
    delivers_replies: bool = False

    @abstractmethod
    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        """Hand one message to the provider; raise ``PermanentFailure`` or ``TemporaryFailure``.

        ``request_id`` is stable across retries of the same message, for providers that de-duplicate.
        """
