"""``/favicon.ico``: browsers ask for it on every page; without it each page logs a 404 (and a console error)."""

from __future__ import annotations

from flask import Flask, Response, send_from_directory


def init_app(app: Flask) -> None:
    @app.get("/favicon.ico")
    def favicon() -> Response:
        """The ward's red rating face, cached for a day."""
        assert app.static_folder is not None
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                   max_age=86400)
