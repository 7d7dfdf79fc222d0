"""SMS and QR channel: invitations after returned dossiers, replies, short links, providers.

``init_app`` registers the provider webhooks (signed, so CSRF-exempt), adds each dossier's
invitations to the API's dossier JSON, and wires the web half (short-link form, QR, console pages).
"""

from __future__ import annotations

import importlib.util

from flask import Flask

from sipas.settings import Settings


def check_settings(settings: Settings) -> None:
    """Parse every setting of the SMS, QR and Zalo channel (``SettingsError`` names a wrong one): see
    sipas.settings_check."""
    from sms_gateway.jobs import cycle_seconds
    from sms_gateway.link_throttle import max_failures
    from sms_gateway.links import qr_link_days
    from sms_gateway.settings import SmsSettings
    from sms_gateway.zalo_settings import ZaloSettings

    SmsSettings.from_settings(settings)
    ZaloSettings.from_settings(settings)
    qr_link_days(settings)
    max_failures(settings)
    cycle_seconds(settings)


def init_app(app: Flask) -> None:
    """Register the channel with the app."""
    from sipas.context import exempt_from_session
    from sms_gateway import http_status  # noqa: F401  (its route is on the webhooks blueprint)
    from sms_gateway.api_extension import invitations_json
    from sms_gateway.settings import SmsSettings
    from sms_gateway.webhooks import bp as webhooks_bp

    app.extensions["sms_settings"] = SmsSettings.from_settings(app.extensions["sipas_settings"])
    from sms_gateway.case_reply import send_case_reply

    app.extensions["sipas_case_reply_sender"] = send_case_reply
    from sipas.todo import add_console_todo
    from sms_gateway.todo import returned_not_invited

    add_console_todo(app, returned_not_invited)
    app.register_blueprint(webhooks_bp)
    exempt_from_session(webhooks_bp)
    from sms_gateway import zalo_web

    zalo_web.init_app(app)
    from sipas.api import dossiers as dossier_api

    if invitations_json not in dossier_api.DOSSIER_JSON_EXTENDERS:
        dossier_api.DOSSIER_JSON_EXTENDERS.append(invitations_json)
    if importlib.util.find_spec("sms_gateway.links_web") is not None:
        from sms_gateway import links_web

        links_web.init_app(app)
