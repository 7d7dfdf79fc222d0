"""Fixtures: the app factory on a fresh database per test, on SQLite and on a real PostgreSQL.

Every test that uses ``app``, ``client`` or ``session`` runs twice, once per backend. The schema is
built once per run by the Alembic migrations from empty; each test then gets it with no rows (a copy of
the SQLite file; the PostgreSQL database with every table truncated and its sequences reset).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
# The CLI reads /etc/sipas/sipas.env when it exists (sipas.envfile): never a real deployment's settings in tests.
os.environ["SIPAS_ENV_FILE"] = ""


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
def postgres_database(postgres_server: str) -> Iterator[str]:
    """One database migrated from empty for this run; each test starts from it emptied."""
    name = f"sipas_test_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    """Every table emptied and every sequence reset; connections left by an earlier test are ended."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                   "AND tablename <> 'alembic_version'")).all()
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    yield url


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
def run_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The ``sipas`` command on this test's database and instance folder: ``run_cli(*args, **options)`` gives
    click's result (``options`` go to ``CliRunner.invoke``); an unexpected exception is raised, not kept in the
    result, unless ``catch_exceptions=True``. A test module that needs more of the environment overrides this
    fixture with one that sets it and returns this one."""
    from click.testing import CliRunner

    from sipas import cli as cli_module

    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()

    def run(*args: str, catch_exceptions: bool = False, **options: Any) -> Any:
        return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=catch_exceptions, **options)

    return run


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    get_database(application).dispose()


@pytest.fixture
def one_login_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every login of the test at the same instant. The limits count in fixed windows (15 minutes, a day): a test
    whose requests straddled the end of a window saw the count start again (401 where 429 was due), as a client
    guessing across it would; what the login tests check is the count within a window."""
    from sipas.clock import utcnow
    from sipas.console import users, views

    now = utcnow()
    monkeypatch.setattr(views, "utcnow", lambda: now)
    monkeypatch.setattr(users, "utcnow", lambda: now)  # the current password, counted as a login is


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A deferred session: reading through it never blocks the app's writers on SQLite."""
    database = get_database(app)
    with database.read_sessionmaker() as db_session:
        yield db_session
