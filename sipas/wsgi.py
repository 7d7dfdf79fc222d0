"""WSGI entry point for gunicorn: ``gunicorn 'sipas.wsgi:create()'``."""

import logging
import time

from flask import Flask

from sipas.app import create_app
from sipas.context import get_catalogue
from sipas.failures import database_unavailable
from sipas.instrument_records import check_records
from sipas.storage import get_database

log = logging.getLogger(__name__)


def create() -> Flask:
    """The app, after checking that no criterion set in use was edited (the worker refuses to start).

    A worker that starts while the database is unreachable waits for it: gunicorn stops the whole server when a
    worker fails to boot, so a worker replaced during an outage would otherwise end the service the outage left
    running (its boot timeout still bounds the wait)."""
    app = create_app()
    database = get_database(app)
    while True:
        try:
            with app.app_context(), database.engine.connect() as connection:
                check_records(connection, get_catalogue())
            return app
        except Exception as exc:
            reason = database_unavailable(exc)
            if reason is None:
                raise
            log.warning("database unavailable at start-up (%s): checking the criterion sets again in 1 s", reason)
            time.sleep(1)
