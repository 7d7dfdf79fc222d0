"""Refuse request text that no database column can hold, before any view sees it.

A NUL character in a query string, a form field or a URL path segment makes PostgreSQL refuse the
statement ("A string literal cannot contain NUL"), which would surface as a 500 deep inside a view.
Refusing it at the door gives a clear 400 instead, on both databases alike. Other control characters
are left to the views (a clerk pasting from Word brings vertical tabs that the notice editor cleans).
Provider webhooks under ``/sms/`` are left alone (they must always answer, and clean their own input),
and so is the integration API, whose validation answers 422 naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Flask, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger(__name__)
EXEMPT_PREFIXES = ("/sms/", "/api/")


def _texts() -> Iterator[tuple[str, str]]:
    for name, value in request.args.items(multi=True):
        yield name, name
        yield name, value
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            yield name, name
            yield name, value


def offending_field() -> str | None:
    """The name of the first request value holding a NUL character, or None."""
    try:
        for name, value in _texts():
            if "\x00" in value:
                return name
    except RequestEntityTooLarge:
        return None  # the view (or its blueprint's handler) explains the size limit
    return None


def refuse_nul() -> tuple[str, int] | None:
    if request.path.startswith(EXEMPT_PREFIXES):
        return None
    name = offending_field()
    if name is None:
        return None
    log.info("refused a request to %s: NUL character in %r", request.endpoint, name)  # the path may hold a link code
    return render_template("errors/400.html"), 400


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)
