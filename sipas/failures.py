"""What a request that failed answers: 503 + ``Retry-After`` while the database cannot be used, else the
Vietnamese 500 page (or JSON) with a reference id that is also in the log.

Both roll the request's session back first: a failed flush leaves it needing a rollback, and anything
that touches it before (the console's menu asks who is logged in) would raise ``PendingRollbackError``
inside the error handler, which Flask answers with its bare English page. Error pages never load the
user, so they render even with the database down.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import g, jsonify, render_template, request
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

#: Seconds a client should wait before retrying when the database is unavailable.
RETRY_AFTER_SECONDS = 10

UNAVAILABLE_MESSAGE = "Hệ thống tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau ít phút."
INTERNAL_MESSAGE = "Lỗi hệ thống, vui lòng thử lại sau."
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open database", "disk i/o error")
#: PostgreSQL's SQLSTATEs of a transaction that lost to a concurrent one: class 40 (transaction rollback:
#: serialization failure 40001, deadlock 40P01) and 55P03 (lock not available)
_POSTGRESQL_BUSY = ("40", "55P03")

_FALLBACK_PAGE = ("<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Lỗi hệ thống</title>"
                  "<h1>Lỗi hệ thống</h1><p>{message}</p><p>Mã tham chiếu: {reference}</p></html>")


def database_unavailable(exc: BaseException | None) -> str | None:
    """``"database_unreachable"`` or ``"database_busy"`` when ``exc`` says the database cannot be used
    right now (PostgreSQL down or restarting; busy: SQLite still locked after its busy timeout, the pool
    exhausted, a PostgreSQL transaction that lost to a concurrent one — a deadlock, which was reported as
    unreachable); None for every other error, which is a bug (500)."""
    if isinstance(exc, sa_exc.TimeoutError):
        return "database_busy"
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    if exc.connection_invalidated:
        return "database_unreachable"
    if not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    if type(exc.orig).__module__.startswith("sqlite3"):
        message = str(exc.orig).lower()
        if not message.startswith(_SQLITE_UNAVAILABLE):
            return None  # e.g. "no such table": a bug or a missing migration, not an outage
        return "database_busy" if "locked" in message or "busy" in message else "database_unreachable"
    if str(getattr(exc.orig, "sqlstate", None) or "").startswith(_POSTGRESQL_BUSY):
        return "database_busy"  # another writer won (a deadlock, a serialization failure): retrying succeeds
    return "database_unreachable"  # PostgreSQL's OperationalError: connection refused, closed, shutting down


def reset_request_state() -> None:
    """Roll the request's session back (never raising) and forget the logged-in user for the page."""
    session = g.pop("sipas_session", None)
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the connection may be gone with the database
            log.warning("rollback after a failed request failed too", exc_info=True)
        finally:
            try:
                session.close()
            except Exception:
                log.warning("closing the failed request's session failed", exc_info=True)
    g.sipas_user = None


def wants_json() -> bool:
    """Machine clients: the API, kiosk device calls, provider webhooks, the phone form's component."""
    path = request.path
    return (path.startswith(("/api/", "/sms/")) or (path.startswith("/kiosk/") and "/api/" in path)
            or request.is_json)


def _page(template: str, status: int, reference: str | None = None, **headers: str) -> Any:
    message = UNAVAILABLE_MESSAGE if status == 503 else INTERNAL_MESSAGE
    try:
        body = render_template(template, reference=reference, message=message)
    except Exception:  # the page must render whatever broke: a plain one then
        log.exception("error page %s failed to render", template)
        body = _FALLBACK_PAGE.format(message=message, reference=reference or "-")
    return body, status, {"Content-Type": "text/html; charset=utf-8", **headers}


def unavailable_answer(reason: str) -> Any:
    """503 with ``Retry-After``: JSON ``{"error": {"code": "database_unavailable", ...}}`` or the page."""
    reset_request_state()
    log.warning("database unavailable (%s) on %s %s", reason, request.method, request.endpoint)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        body = jsonify(error={"code": "database_unavailable", "message": UNAVAILABLE_MESSAGE, "reason": reason,
                              "retry_after": RETRY_AFTER_SECONDS})
        return body, 503, headers
    return _page("errors/503.html", 503, **headers)


def internal_answer(exc: BaseException | None) -> Any:
    """500 with a reference id logged with the exception (so a clerk's report finds the traceback)."""
    reference = secrets.token_hex(4)
    reset_request_state()
    log.error("internal error %s on %s %s", reference, request.method, request.endpoint, exc_info=exc)
    if wants_json():
        return jsonify(error={"code": "internal_error", "message": f"{INTERNAL_MESSAGE} (mã tham chiếu {reference})",
                              "reference": reference}), 500
    return _page("errors/500.html", 500, reference=reference)


def failure_answer(exc: BaseException | None) -> Any:
    reason = database_unavailable(exc)
    return unavailable_answer(reason) if reason else internal_answer(exc)


def server_error(exc: Any) -> Any:
    """The app's 500 handler (Flask passes an InternalServerError wrapping the unhandled exception)."""
    original = getattr(exc, "original_exception", None)
    return failure_answer(original if isinstance(original, BaseException) else None)


def database_error(exc: BaseException) -> Any:
    """The app's handler for SQLAlchemy errors that no blueprint handled."""
    return failure_answer(exc)
