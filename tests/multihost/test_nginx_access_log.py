"""The shipped nginx writes no phone number into its access log: eSMS calls the delivery report URL by GET with
the recipient's number in the query string (``phonenumber=0901888484``), which nginx's request line carries."""

from __future__ import annotations

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
    log = (nginx.folder / "logs" / "access.log").read_text(encoding="utf-8")
    assert "/sms/http/status?o=12&" in log and "SendStatus=5" in log
    assert "901888484" not in log
    assert "phonenumber=***" in log and "/r/***?phonenumber=***" in log and "Ab3dE6gH9k" not in log
