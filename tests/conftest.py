"""Fixtures: the app factory on a fresh database per test, on SQLite and on a real PostgreSQL.

Every test that uses ``app``, ``client`` or ``session`` runs twice, once per backend. A migrated
template database is built once per run (Alembic, from empty) and copied for each test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from sipas.app import create_app
from sipas.catalogue import Catalogue, load_catalogue
from sipas.migrate import upgrade
from sipas.settings import DEFAULT_CONFIG_DIR, Settings
from sipas.storage import get_database

pytest_plugins = ["tests.browser_support"]

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SIPAS_TEST_BACKENDS"):
        wanted = set(os.environ["SIPAS_TEST_BACKENDS"].split(","))
        items[:] = [i for i in items if not any(f"[{b}" in i.name for b in BACKENDS if b not in wanted)]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(DEFAULT_CONFIG_DIR)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("SIPAS_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from tests.pgcluster import PostgresCluster

    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS sipas_template"))
        conn.execute(text("CREATE DATABASE sipas_template"))
    admin.dispose()
    template_url = make_url(postgres_server).set(database="sipas_template").render_as_string(hide_password=False)
    upgrade(template_url)
    return postgres_server


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_template")
    name = f"sipas_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE sipas_template'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        database_url=database_url,
        secret_key="test-secret-key",
        instance_dir=tmp_path / "instance",
        secure_cookies=False,
        testing=True,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    get_database(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A deferred session: reading through it never blocks the app's writers on SQLite."""
    database = get_database(app)
    with database.read_sessionmaker() as db_session:
        yield db_session
