"""The shipped nginx writes no phone number into its access log: eSMS calls the delivery report URL by GET with
the recipient's number in the query string (``phonenumber=0901888484``), which nginx's request line carries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.multihost.nginx import Nginx

pytestmark = pytest.mark.slow


def test_the_number_of_a_delivery_report_is_not_in_the_access_log(nginx: Nginx) -> None:
    query = ("o=12&k=0f1e2d3c4b5a69788796a5b4c3d2e1f0&SMSID=dc712784-9c5f&SendStatus=5&TypeId=2&telcoid=1"
             "&phonenumber=0901888484&switchsmsid=")
    with requests.Session() as http:
        http.trust_env = False
        http.get(f"{nginx.url}/sms/http/status?{query}", verify=str(nginx.cert), timeout=30)
        http.get(f"{nginx.url}/r/Ab3dE6gH9k?phonenumber=84901888484", verify=str(nginx.cert), timeout=30)
    log = _logged(nginx.folder / "logs" / "access.log", requests_made=2)
    assert "/sms/http/status?o=12&" in log and "SendStatus=5" in log
    assert "901888484" not in log
    assert "phonenumber=***" in log and "/r/***?phonenumber=***" in log and "Ab3dE6gH9k" not in log


def _logged(path: Path, *, requests_made: int) -> str:
    """The access log once it holds a line for each request made: nginx writes a request's line in its log phase,
    after the response has gone out, so the client can read the file before the last line is there (a full run
    read it without the second request's line)."""
    deadline = time.monotonic() + 10
    while True:
        log = path.read_text(encoding="utf-8")
        if sum("python-requests" in line and "/healthz" not in line for line in log.splitlines()) >= requests_made \
                or time.monotonic() > deadline:
            return log
        time.sleep(0.05)
