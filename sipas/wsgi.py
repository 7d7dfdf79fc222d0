"""WSGI entry point for gunicorn: ``gunicorn 'sipas.wsgi:create()'``."""

from flask import Flask

from sipas.app import create_app
from sipas.context import get_catalogue
from sipas.instrument_records import check_records
from sipas.storage import get_database


def create() -> Flask:
    """The app, after checking that no criterion set in use was edited (the worker refuses to start)."""
    app = create_app()
    database = get_database(app)
    with app.app_context(), database.engine.connect() as connection:
        check_records(connection, get_catalogue())
    return app
