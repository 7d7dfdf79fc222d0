"""The integration API under /api/v1: JSON, ``Authorization: Bearer <key>``, errors as
``{"error": {"code", "message"}}``. No input produces a 500."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from sipas.api import errors, instruments  # noqa: E402,F401  (routes register on import)
