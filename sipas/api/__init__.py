"""The integration API under /api/v1: JSON, ``Authorization: Bearer <key>``, errors as
``{"error": {"code", "message"}}``. No input produces a 500."""

from flask import Blueprint

from sipas.api.errors import register_api_errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_api_errors(bp)

from sipas.api import dossiers, instruments, responses  # noqa: E402,F401  (routes register on import)
