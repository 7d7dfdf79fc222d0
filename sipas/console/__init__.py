"""The clerk's console: login, home page, dossiers. Channels add their own pages under /console."""

from flask import Blueprint

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="../templates", static_folder="../static",
    static_url_path="/static",
)

from sipas.console import admin, ballots, cases, dossier_actions, dossiers, keys, users, views  # noqa: E402,F401  (routes register on import)
from sipas.console.refusal import refused_field  # noqa: E402

bp.add_app_template_global(refused_field)  # console/base.html: which field a refused form's message is about
