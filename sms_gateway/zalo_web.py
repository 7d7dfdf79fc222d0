"""Wiring of the Zalo channel: its settings (checked at start), the signed event webhook, the console page."""

from __future__ import annotations

from flask import Flask

from sipas.context import add_console_nav, exempt_from_session


def init_app(app: Flask) -> None:
    from sms_gateway.zalo_console import bp as console_bp
    from sms_gateway.zalo_events import bp as events_bp
    from sms_gateway.zalo_settings import ZaloSettings

    app.extensions["zalo_settings"] = ZaloSettings.from_settings(app.extensions["sipas_settings"])  # fails fast
    app.register_blueprint(events_bp)
    exempt_from_session(events_bp)  # signed by Zalo (X-ZEvent-Signature), not by a session's CSRF token
    app.register_blueprint(console_bp)
    add_console_nav(app, "zalo_console.page", "Zalo", order=45, roles=("admin",))
