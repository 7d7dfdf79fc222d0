"""Bearer-key authentication and unit scoping for the integration API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from sipas.accounts import authenticate_api_key
from sipas.api.serializers import json_object
from sipas.clock import utcnow
from sipas.errors import DomainError, UnknownUnit
from sipas.models import ApiKey, Unit
from sipas.storage import db_session
from sipas.units import covers, get_unit

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401
    message_vi = "Thiếu hoặc sai khóa truy cập (Authorization: Bearer <khóa>)."


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    message_vi = "Khóa truy cập không có quyền với đơn vị này."


def names_its_dossier(view: F) -> F:
    """Mark a view whose JSON body names the dossier it acts on (``dossier_code``): ``api_key_required`` reads that
    dossier of the key's unit with the key, in one statement (``authenticate_api_key(dossier_code=…)``)."""
    view.sipas_names_dossier = True  # type: ignore[attr-defined]
    return view


def _dossier_code_in_body() -> str | None:
    """The body's ``dossier_code`` as the view will read it, or None (no JSON object, no such text: the view then
    answers the precise error itself)."""
    try:
        code = json_object().get("dossier_code")
    except DomainError:
        return None
    if not isinstance(code, str):
        return None
    return " ".join(code.split()) or None


def api_key_required(view: F) -> F:
    names_dossier = getattr(view, "sipas_names_dossier", False)

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(detail="missing bearer token")
        # A read stays a read: on SQLite a deferred (read) transaction that writes fails at once with
        # "database is locked" when another connection wrote meanwhile, so GETs do not record the use.
        reading = request.method in ("GET", "HEAD", "OPTIONS")
        key = authenticate_api_key(db_session(), token, now=utcnow(), touch=not reading,
                                   dossier_code=_dossier_code_in_body() if names_dossier else None)
        if key is None:
            raise Unauthorized(detail="unknown or revoked key")
        g.api_key = key
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_key() -> ApiKey:
    return g.api_key


def api_actor() -> str:
    return f"apikey:{current_key().prefix}"


def resolve_unit(code: str | None) -> Unit:
    """The unit a request acts on: the key's own unit, or ``code`` if the key covers it (district keys)."""
    key = current_key()
    session = db_session()
    if not code:
        return key.unit
    try:
        unit = get_unit(session, code)
    except UnknownUnit:
        raise Forbidden(detail=f"unit {code!r} not covered by this key") from None
    if not covers(session, key.unit, unit):
        raise Forbidden(detail=f"unit {code!r} not covered by this key")
    return unit
