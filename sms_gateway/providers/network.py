"""Did a failed HTTP call reach the provider? Decides whether a resend is safe or a lookup comes first."""

from __future__ import annotations

import requests
from urllib3.exceptions import NewConnectionError

from sms_gateway.providers.base import TemporaryFailure


def nothing_sent(exc: requests.RequestException) -> bool:
    """True only when no byte of the request can have reached the provider: the connection was refused,
    the name did not resolve, or the connection could not be opened in time. A read timeout, a reset
    while reading, a broken answer: the provider may have taken the message."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return False


def network_failure(exc: requests.RequestException) -> TemporaryFailure:
    if nothing_sent(exc):
        return TemporaryFailure("network", type(exc).__name__, unreachable=True)
    code = "timeout" if isinstance(exc, requests.exceptions.Timeout) else "connection_lost"
    return TemporaryFailure(code, type(exc).__name__, may_have_sent=True)
