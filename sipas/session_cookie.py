"""The session cookie is rewritten only by the requests of a person's pages.

Flask refreshes a permanent session's cookie on every response. A kiosk open in the clerk's browser
polls ``/kiosk/<unit>/api/armed`` every second with the same cookie; a poll that read the cookie just
before the login page or a console page added the CSRF token, and answered just after, wrote the
stale copy back, and the clerk's next click failed with "The CSRF session token is missing". Device
polls, the JSON API, webhooks, the phone form and static files therefore never write the cookie
unless they changed the session themselves.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from sipas.context import SESSIONLESS_BLUEPRINTS


class PageSessionInterface(SecureCookieSessionInterface):
    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        endpoint = request.endpoint or ""
        if request.blueprint in SESSIONLESS_BLUEPRINTS or endpoint == "static" or endpoint.endswith(".static"):
            return False
        return super().should_set_cookie(app, session)
