"""JSON errors for every failure under /api/v1: domain errors, HTTP errors, unexpected ones.

``register_api_errors(blueprint)`` gives any API blueprint (the core's, a channel's) the same shape:
``{"error": {"code", "message", "field"?, "detail"?}}``.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from sipas.error_pages import http_error_page
from sipas.errors import DomainError
from sipas.storage import db_session

log = logging.getLogger(__name__)

_HTTP_MESSAGES_VI = {
    400: "Yêu cầu không hợp lệ (JSON sai cú pháp?).",
    401: "Cần đăng nhập hoặc khóa truy cập.",
    403: "Không có quyền.",
    404: "Không tìm thấy địa chỉ này.",
    405: "Phương thức không được hỗ trợ.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Cần gửi JSON (Content-Type: application/json).",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau.",
}


def _encodable(value: object) -> object:
    """Error texts may quote the client's input; a lone surrogate in it must not break the JSON answer."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    return value


def error_body(code: str, message: str, **extra: str):  # type: ignore[no-untyped-def]
    return jsonify(error=_encodable({"code": code, "message": message, **extra}))


def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
    session = db_session()
    if exc.keeps_audit:
        session.commit()
    else:
        session.rollback()
    return jsonify(error=_encodable(exc.to_dict())), exc.http_status


def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_body(code, _HTTP_MESSAGES_VI.get(status, exc.description or ""), detail=exc.description or ""), status


def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
    """503 ``database_unavailable`` + Retry-After while the database is down or locked, else 500
    ``internal_error`` with a reference id that the log line carries."""
    from sipas.failures import failure_answer

    return failure_answer(exc)


def register_api_errors(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(DomainError, domain_error)
    blueprint.register_error_handler(HTTPException, http_error)
    blueprint.register_error_handler(Exception, unexpected)


def api_not_found_fallback(app: Flask) -> None:
    """Unknown paths under /api/ answer JSON too (blueprint handlers only see matched routes)."""

    @app.errorhandler(404)
    def not_found(exc):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error_body("not_found", _HTTP_MESSAGES_VI[404]), 404
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def not_allowed(exc):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error_body("method_not_allowed", _HTTP_MESSAGES_VI[405]), 405
        return http_error_page(exc)

    @app.errorhandler(HTTPException)
    def other_http_error(exc):  # type: ignore[no-untyped-def]
        if exc.code is None or exc.code < 400 or request.path.startswith("/api/"):
            return exc  # a redirect of the router, or the API's own answer
        return http_error_page(exc)

