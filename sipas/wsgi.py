"""WSGI entry point for gunicorn: ``gunicorn 'sipas.wsgi:create()'``."""

from flask import Flask

from sipas.app import create_app


def create() -> Flask:
    return create_app()
