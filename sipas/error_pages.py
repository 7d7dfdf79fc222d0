"""The Vietnamese page of an HTTP error that no page answers itself (Werkzeug's own pages are English); the
API answers JSON instead (``sipas.api.errors``)."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException

#: (title, sentence) of an HTTP error a page answers with no handler of its own: Werkzeug's were English
_HTTP_PAGES_VI = {
    400: ("Yêu cầu không hợp lệ", "Dữ liệu gửi lên không đọc được. Ông/bà vui lòng quay lại rồi thử lần nữa."),
    405: ("Thao tác không được hỗ trợ", "Trang này không nhận thao tác vừa gửi. Ông/bà vui lòng quay lại trang "
                                        "trước rồi thử lại."),
    413: ("Dữ liệu quá lớn", "Dữ liệu gửi lên quá lớn."),
    414: ("Địa chỉ quá dài", "Địa chỉ trang quá dài."),
    429: ("Quá nhiều yêu cầu", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    431: ("Yêu cầu quá lớn", "Phần đầu của yêu cầu quá lớn."),
}


def http_error_page(exc: HTTPException):  # type: ignore[no-untyped-def]
    """The Vietnamese page of an HTTP error, with the headers the error carries (``Allow`` of a 405,
    ``Retry-After`` of a 429)."""
    code = exc.code or 500
    title, message = _HTTP_PAGES_VI.get(code, ("Không thực hiện được yêu cầu",
                                               "Máy chủ không thực hiện được yêu cầu này."))
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return render_template("errors/http.html", code=code, title=title, message=message), code, headers
