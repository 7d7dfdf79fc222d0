"""Wiring of the web half of the SMS/QR channel: the citizen's /r pages and the console pages."""

from __future__ import annotations

from flask import Flask

from sipas.context import add_console_nav


def init_app(app: Flask) -> None:
    """Register the short-link pages, the QR endpoints and the /console/sms pages."""
    from sipas.context import exempt_from_session
    from sms_gateway.phone_views import bp as phone_bp

    app.register_blueprint(phone_bp)
    exempt_from_session(phone_bp)  # its form token is signed and bound to the link, not kept in the session cookie
    from sms_gateway import (  # noqa: F401  (routes on bp)
        ballot_print,
        blank_ballot_print,
        console_outbox,
        console_templates,
        console_views,
    )

    app.register_blueprint(console_views.bp)
    add_console_nav(app, "sms_console.index", "Tin nhắn & QR", order=40, roles=("admin", "clerk"))
