"""A request body over the size limit is refused by the shipped nginx in sipas's own words: the integration API's
JSON error (docs/api.md: 413 ``request_entity_too_large``), a Vietnamese page for people. nginx refuses such a
body before sipas sees it, so without its own answers the API's clients got nginx's English HTML page."""

from __future__ import annotations

import pytest
import requests

from tests.multihost.nginx import Nginx

pytestmark = pytest.mark.slow
OVER_THE_LIMIT = b"x" * (26 * 1024 * 1024)  # client_max_body_size 25m


def _post(nginx: Nginx, path: str, content_type: str) -> requests.Response:
    with requests.Session() as http:
        http.trust_env = False
        return http.post(f"{nginx.url}{path}", data=OVER_THE_LIMIT, headers={"Content-Type": content_type},
                         verify=str(nginx.cert), timeout=60)


def test_the_api_gets_its_json_error_for_a_body_over_the_limit(nginx: Nginx) -> None:
    answer = _post(nginx, "/api/v1/responses", "application/json")
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"error": {"code": "request_entity_too_large", "message": "Dữ liệu gửi lên quá lớn.",
                                       "detail": "The request body is over 25 MB (nginx client_max_body_size)."}}


def test_a_person_gets_a_vietnamese_page_for_a_file_over_the_limit(nginx: Nginx) -> None:
    answer = _post(nginx, "/console/dossiers/import", "multipart/form-data; boundary=x")
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.encoding and answer.encoding.lower() == "utf-8"
    assert "Dữ liệu gửi lên quá lớn" in answer.text and "25 MB" in answer.text and "nginx" not in answer.text
