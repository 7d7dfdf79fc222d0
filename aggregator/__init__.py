"""aggregator channel."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the channel with the app (filled in by the channel)."""
