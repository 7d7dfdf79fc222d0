"""A page's HTTP errors read in Vietnamese (Werkzeug's own pages were English); the API keeps its JSON."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_wrong_method_on_a_page_gets_a_vietnamese_page_with_its_allow_header(client: FlaskClient) -> None:
    response = client.delete("/console/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "Thao tác không được hỗ trợ" in html and "Mã lỗi 405." in html
    assert "Method Not Allowed" not in html
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_other_http_errors_of_pages_are_vietnamese_too(client: FlaskClient) -> None:
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    response = client.post("/console/login", data=b"x" * (limit + 1),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and "Dữ liệu quá lớn" in html and "Mã lỗi 413." in html
    assert "Request Entity Too Large" not in html


def test_the_api_and_redirects_are_unchanged(client: FlaskClient) -> None:
    api = client.delete("/api/v1/responses")
    assert api.status_code == 405
    assert api.get_json() == {"error": {"code": "method_not_allowed", "message": "Phương thức không được hỗ trợ."}}
    unknown = client.get("/api/v1/khong-co")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    redirect = client.get("/console")
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith("/console/")
