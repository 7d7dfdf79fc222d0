"""Security headers on every answer: no inline script may run, no site may frame a page.

The Content-Security-Policy allows scripts from this origin only (every page's JavaScript lives in a
static file; JSON data blocks ``<script type="application/json">`` are data, not script). Inline
``style=`` attributes stay allowed: they cannot run code. HSTS is set by nginx (deploy/nginx/sipas.conf),
which knows whether the site is served over HTTPS.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The phone form's address carries its bearer code: never hand it to another site.
    "Referrer-Policy": "no-referrer",
}


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
