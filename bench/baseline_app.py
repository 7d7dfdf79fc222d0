"""The bare baseline for intake: a Flask app that parses a JSON rating and stores it with one INSERT + commit.

Served like sipas (gunicorn with ``deploy/gunicorn.conf.py``) on the same database with the same engine
settings (``sipas.storage.make_engine``: SQLite WAL, ``synchronous=FULL``, busy timeout; the same pool on
PostgreSQL), so the ratio sipas / baseline is what sipas's own work costs. ``BENCH_DATABASE_URL`` names
the database; ``prepare`` creates the table ``bench_bare`` before the server starts (two workers creating
it at once would race).
"""

from __future__ import annotations

import json
import os

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert

from sipas.storage import make_engine

metadata = MetaData()
bare = Table("bench_bare", metadata, Column("id", Integer, primary_key=True), Column("dossier_code", String(64)),
             Column("answers", Text))


def prepare(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create() -> Flask:
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return "ok"

    @app.post("/rate")
    def rate():  # type: ignore[no-untyped-def]
        body = request.get_json()
        with engine.begin() as connection:
            new_id = connection.execute(insert(bare).values(dossier_code=body["dossier_code"],
                                                            answers=json.dumps(body["answers"]))).inserted_primary_key[0]
        return jsonify(id=new_id), 201

    return app
