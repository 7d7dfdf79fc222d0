"""The one interface every SMS provider implements, and its typed errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

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
    """Worth trying again later, with backoff.

    ``may_have_sent`` is False when nothing reached the provider (connection refused, connect timeout,
    429): a resend is safe. It is True when the outcome is ambiguous (read timeout, 5xx, an answer that
    cannot be read): the message may exist, so it is looked up (``find_sent``) before any resend.
    """

    def __init__(self, code: str, detail: str = "", *, may_have_sent: bool = False, unreachable: bool = False) -> None:
        super().__init__(code, detail)
        self.may_have_sent = may_have_sent
        #: The provider could not be reached at all (refused, no route, connect timeout): an outage on
        #: its side or ours, not an attempt at this message; the sender backs off without counting it.
        self.unreachable = unreachable


class SmsProvider(ABC):
    name: str = "base"
    delivers_replies: bool = False
    # True when the provider refuses a second message with the same ``request_id`` (eSMS: code 124): after
    # an ambiguous failure the same request is simply sent again. Otherwise ``find_sent`` must answer.
    deduplicates_requests: bool = False

    @abstractmethod
    def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
             request_id: str | None = None) -> SendResult:
        """Hand one message to the provider; raise ``PermanentFailure`` or ``TemporaryFailure``.

        ``request_id`` is stable across retries of the same message, for providers that de-duplicate.
        """

    def find_sent(self, to_e164: str, body: str, since: datetime) -> SendResult | None:
        """The message with this body the provider took for this number at or after ``since`` (the claim
        time of the ambiguous attempt; providers allow for clock skew), or None when it took none.

        Raise ``TemporaryFailure`` when it cannot tell: the caller then neither resends nor gives up
        until its attempts run out, and then fails rather than send blind. A provider whose failures can
        be ambiguous overrides this or sets ``deduplicates_requests``.
        """
        raise TemporaryFailure("lookup_unsupported", f"{self.name} cannot look up sent messages")
