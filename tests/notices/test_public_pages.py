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
