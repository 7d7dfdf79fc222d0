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
    """The provider refused the message for good: do not retry it.

    ``opted_out``: the recipient refused messages (Twilio 21610); ``invalid_number``: the number cannot
    receive SMS (Twilio 21211). Other providers map their own codes onto these two flags.
    """

    def __init__(self, code: str, detail: str = "", *, opted_out: bool | None = None,
                 invalid_number: bool | None = None) -> None:
        super().__init__(code, detail)
        self.opted_out = code == OPTED_OUT if opted_out is None else opted_out
        self.invalid_number = code == INVALID_NUMBER if invalid_number is None else invalid_number


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
