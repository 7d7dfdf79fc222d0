"""What anyone sees without logging in: the unit's list of issued notices, a notice's own page and its files."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from aggregator.models_notices import Notice
from tests.notices.test_verify import issued  # noqa: F401  (fixture)


def test_public_pages_set_no_session_cookie(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    """A citizen scanning the QR gets no cookie: the pages and the copy check need no session."""
    code = issued.unit.code
    for url in (f"/cong-khai/{code}", f"/cong-khai/{code}/2026/3", f"/cong-khai/{code}/2026/3.pdf",
                f"/cong-khai/{code}/2026/3.docx", f"/cong-khai/{code}/2026/3.html", f"/cong-khai/{code}/2026/9"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert b"csrf_token" not in response.data, url
    check = client.post(f"/cong-khai/{code}/2026/3/kiem-tra", data={"file": (io.BytesIO(issued.pdf), "tb.pdf")},
                        content_type="multipart/form-data")
    assert check.status_code == 200 and "Set-Cookie" not in check.headers
    assert "Trùng khớp: tệp giống hệt bản PDF đã ban hành" in check.get_data(as_text=True)


def test_issued_files_answer_a_conditional_request_without_the_body(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    """A phone or a proxy that already holds the file gets a 304, not the same 400 kB again."""
    code = issued.unit.code
    for fmt, digest in (("pdf", issued.pdf_sha256), ("docx", issued.docx_sha256), ("html", None)):
        first = client.get(f"/cong-khai/{code}/2026/3.{fmt}")
        assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=300"
        etag = first.headers["ETag"]
        if digest is not None:
            assert etag == f'"{digest}"'  # the SHA-256 the notice's page publishes
        again = client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert "Set-Cookie" not in again.headers
        if digest is not None:  # the stored bytes never change; the HTML is drawn again by the running version
            since = {"If-Modified-Since": first.headers["Last-Modified"]}
            assert client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers=since).status_code == 304
        other = client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers={"If-None-Match": '"khac"'})
        assert other.status_code == 200 and other.data == first.data
