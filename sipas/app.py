"""The application factory. Channels register their blueprints here, inside the function."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, jsonify, render_template
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from sipas import converters, format_vi, security_headers, storage
from sipas.catalogue import load_catalogue
from sipas.consent import load_consent_wordings
from sipas.context import csrf, exempt_from_session
from sipas.instance_secret import secret_in_force
from sipas.plugins import channel_modules
from sipas.session_cookie import PageSessionInterface
from sipas.settings import Settings
from sipas.settings_check import check_every_setting

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    check_every_setting(settings)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    converters.install(app)
    secret_key = secret_in_force(settings)
    app.config.update(
        SECRET_KEY=secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if settings.proxy_count:
        # Behind nginx the client address, scheme and host come from X-Forwarded-* headers set by the
        # trusted proxies; login and link limits then count real clients, not the proxy.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.session_interface = PageSessionInterface()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["sipas_settings"] = settings
    app.extensions["sipas_catalogue"] = load_catalogue(settings.config_dir)
    app.extensions["sipas_consent"] = load_consent_wordings(settings.config_dir)
    app.extensions["sipas_console_nav"] = []
    storage.init_app(app, storage.Database(settings))
    csrf.init_app(app)

    from sipas.api import bp as api_bp
    from sipas.console import bp as console_bp
    from sipas.console.views import init_app as init_console

    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)
    exempt_from_session(api_bp)
    from sipas.api.errors import api_not_found_fallback

    api_not_found_fallback(app)

    from sipas.request_guard import init_app as init_request_guard

    init_request_guard(app)
    from sipas.metrics import init_app as init_metrics

    init_metrics(app)
    security_headers.init_app(app)
    from sipas.favicon import init_app as init_favicon

    init_favicon(app)

    @app.errorhandler(403)
    def forbidden(_exc):  # type: ignore[no-untyped-def]
        return render_template("errors/403.html"), 403

    from sqlalchemy import exc as sa_exc

    from sipas import failures

    app.register_error_handler(500, failures.server_error)
    app.register_error_handler(sa_exc.DBAPIError, failures.database_error)
    app.register_error_handler(sa_exc.TimeoutError, failures.database_error)
    init_console(app)
    for channel in channel_modules():
        channel.init_app(app)

    # Numbers written the Vietnamese way on every page, whichever channel module renders it (decimal comma,
    # thousands dot).
    app.jinja_env.filters["decimal_vi"] = format_vi.decimal_vi
    app.jinja_env.filters["number_vi"] = format_vi.number_vi

    @app.template_filter("localtime")
    def localtime_filter(value: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
        """A stored UTC timestamp shown in the configured local time zone."""
        return value.astimezone(settings.tz).strftime(pattern) if value else ""

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        """200 when the database answers, 503 + Retry-After with the reason otherwise (load balancers, monitoring)."""
        try:
            storage.db_session().execute(text("SELECT 1"))
        except Exception as exc:
            reason = failures.database_unavailable(exc)
            if reason:
                log.warning("health check: %s", reason)  # an outage, not a bug: no traceback every probe
            else:
                log.exception("health check failed")
            failures.reset_request_state()
            reason = reason or "database_error"
            return (jsonify(status="unavailable", database="unreachable", reason=reason), 503,
                    {"Retry-After": str(failures.RETRY_AFTER_SECONDS)})
        return jsonify(status="ok", database="ok")

    return app
