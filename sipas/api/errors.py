"""JSON errors for every failure under /api/v1: domain errors, HTTP errors, unexpected ones."""

from __future__ import annotations

import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from sipas.api import bp
from sipas.errors import DomainError
from sipas.storage import db_session

log = logging.getLogger(__name__)

_HTTP_MESSAGES_VI = {
    400: "Yêu cầu không hợp lệ (JSON sai cú pháp?).",
    404: "Không tìm thấy địa chỉ này.",
    405: "Phương thức không được hỗ trợ.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Cần gửi JSON (Content-Type: application/json).",
}


def error_body(code: str, message: str, **extra: str):  # type: ignore[no-untyped-def]
    return jsonify(error={"code": code, "message": message, **extra})


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
    session = db_session()
    if exc.keeps_audit:
        session.commit()
    else:
        session.rollback()
    return jsonify(error=exc.to_dict()), exc.http_status


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_body(code, _HTTP_MESSAGES_VI.get(status, exc.description or ""), detail=exc.description or ""), status


@bp.errorhandler(Exception)
def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
    log.exception("unexpected API error on %s %s", request.method, request.path)
    db_session().rollback()
    return error_body("internal_error", "Lỗi hệ thống, vui lòng thử lại sau."), 500


def api_not_found_fallback(app) -> None:  # type: ignore[no-untyped-def]
    """Unknown paths under /api/ answer JSON too (blueprint handlers only see matched routes)."""

    @app.errorhandler(404)
    def not_found(exc):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error_body("not_found", _HTTP_MESSAGES_VI[404]), 404
        from flask import render_template

        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def not_allowed(exc):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            return error_body("method_not_allowed", _HTTP_MESSAGES_VI[405]), 405
        return exc
