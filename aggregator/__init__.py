"""Aggregator: reports, dashboard, exports and the district ranking (and the quarterly notices)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the report pages, the report API and the console menu entries."""
    from aggregator import api, views
    from sipas.context import add_console_nav, exempt_from_session

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    exempt_from_session(api.bp)
    app.jinja_env.filters.setdefault("number_vi", views.number_vi)
    app.jinja_env.filters.setdefault("percent_vi", views.percent_vi)
    app.jinja_env.filters.setdefault("decimal_vi", views.decimal_vi)
    app.jinja_env.filters.setdefault("date_vi", views.date_vi)
    add_console_nav(app, "aggregator.dashboard", "Báo cáo", order=40, roles=("admin", "clerk", "leader"))
    add_console_nav(app, "aggregator.inputs", "Số liệu quý", order=45, roles=("admin", "clerk"))
    # Quarterly notices (issuing, documents, public page) register below, in their own package.
    from aggregator.notices import init_app as init_notices

    init_notices(app)
