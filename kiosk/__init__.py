"""kiosk channel: the counter touchscreen, its pairing and its console pages."""

from flask import Flask

from sipas.settings import Settings


def check_settings(settings: Settings) -> None:
    """Parse every ``SIPAS_KIOSK_*`` setting (``SettingsError`` names a wrong one): see sipas.settings_check."""
    from kiosk.config import kiosk_rules, pairing_valid_for

    kiosk_rules(settings)
    pairing_valid_for(settings)


def init_app(app: Flask) -> None:
    """Register the kiosk page (public, with its static assets), its device API and the console pages."""
    from kiosk.console import bp as console_bp
    from kiosk.views import api, bp
    from sipas.context import add_console_nav, exempt_from_session

    app.register_blueprint(bp)
    app.register_blueprint(api)
    exempt_from_session(api)  # authenticated by the device token header, never by a cookie
    app.register_blueprint(console_bp)
    add_console_nav(app, "kiosk_console.index", "Kiosk", order=40, roles=("admin", "clerk"))
    from kiosk.todo import kiosk_items
    from sipas.todo import add_console_todo

    add_console_todo(app, kiosk_items)
