"""``sipas db upgrade`` from the database a past release leaves behind, on SQLite and PostgreSQL.

Each folder of ``tests/fixtures/upgrade/`` (one per release tag) holds a database made by that release's
own migrations and services (``scripts/make_upgrade_fixture.py``; how: the folder's README): a SQLite file
and a plain-SQL ``pg_dump``. The test loads it into a fresh database, runs today's ``sipas db upgrade``
and checks that the database is at today's heads (whatever they are), that its schema is exactly the
models', and that every row the release stored is still there with the same values in the columns it had
(rows a migration adds are allowed).
A migration that must change stored values names the column in ``TRANSFORMED`` with its reason, one that
drops a table names it in ``DROPPED``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from sipas import cli as cli_module
from sipas.cases.rules import asks_for_action
from sipas.catalogue import load_catalogue
from sipas.code_search import outside_models
from sipas.migrate import alembic_config
from sipas.models import Base
from sipas.plugins import load_all_models
from sipas.settings import DEFAULT_CONFIG_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upgrade"
RELEASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
#: "table.column" → why a migration after the release rewrites that column's stored values.
TRANSFORMED: dict[str, str] = {}
#: table → why a migration after the release drops it (checked: it must be gone after the upgrade).
DROPPED: dict[str, str] = {"login_attempt": "unused since throttle_counter (core_0007) counts failed logins; core_0019"}
IGNORED_TABLES = {"alembic_version", "apscheduler_jobs"}


def _snapshot(engine: Engine) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (sorted; raw driver values), as stored."""
    tables = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in sorted(set(inspector.get_table_names()) - IGNORED_TABLES):
            columns = [c["name"] for c in inspector.get_columns(table)]
            tables[table] = (columns, _rows(connection, table, columns))
    return tables


def _rows(connection, table: str, columns: list[str]) -> list[tuple]:  # type: ignore[no-untyped-def]
    kept = [c for c in columns if f"{table}.{c}" not in TRANSFORMED]
    quoted = ", ".join(f'"{c}"' for c in kept)
    rows = connection.exec_driver_sql(f'SELECT {quoted} FROM "{table}"').fetchall()
    return sorted((tuple(_hashable(value) for value in row) for row in rows), key=repr)


def _hashable(value: object) -> object:
    """JSON columns come back as dicts and lists on PostgreSQL."""
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value


def _heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def _upgrade_with_the_cli(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SIPAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPAS_ENV_FILE", "")
    monkeypatch.setenv("SIPAS_DATABASE_URL", url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(tmp_path / "instance"))
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli_module.cli, ["--quiet", "user", "list"])
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["admin", "canbo.phuhoi", "canbo.vinhninh",
                                                                        "lanhdao.quan"]


def _check_upgrade(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(url)
    try:
        before = _snapshot(engine)
        old_heads = _heads(engine)
        assert before["unit"][1] and before["response"][1] and before["notice"][1]  # a fixture with data in it
        _upgrade_with_the_cli(url, tmp_path, monkeypatch)

        today = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
        assert old_heads and _heads(engine) == today
        load_all_models()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, Base.metadata)
                if "apscheduler_jobs" not in repr(d) and not outside_models(d)]
        assert diff == []

        after = _snapshot(engine)
        with engine.connect() as connection:
            for table, (columns, rows) in before.items():
                if table in DROPPED:
                    assert table not in after, f"table {table} should have been dropped"
                    continue
                assert table in after, f"table {table} dropped"
                # rows a migration adds (seeded data) are fine; a stored row lost or altered is not
                lost = Counter(rows) - Counter(_rows(connection, table, columns))
                assert not lost, f"{sum(lost.values())} stored row(s) of {table} lost or changed: {list(lost)[:3]}"
            # an index 8 entered before core_0015 stays an override of the computed one, with a reason
            carried = set(connection.execute(text("SELECT unit_id, year, quarter FROM index8_override_reason")))
            entered = set(connection.execute(text("SELECT unit_id, year, quarter FROM aggregator_quarter_input "
                                                  "WHERE index8_option IS NOT NULL")))
            assert entered and carried == entered
            # core_0018 flags every stored response with a dissatisfied answer, and only those
            keys = set(load_catalogue(DEFAULT_CONFIG_DIR).dissatisfied_answers())
            answers = connection.execute(text("SELECT r.id, r.instrument_code, r.instrument_version, a.criterion_code, "
                                              "a.option_code FROM response r JOIN answer a ON a.response_id = r.id"))
            expected = {rid for rid, *key in answers if tuple(key) in keys}
            flagged = {rid for (rid,) in connection.execute(text("SELECT id FROM response WHERE negative"))}
            assert expected and flagged == expected
            # core_0021 flags the responses that are follow-up cases by their content
            comments = connection.execute(text("SELECT id, negative, comment FROM response"))
            cases = {rid for rid, negative, comment in comments if negative or asks_for_action(comment)}
            flagged = {rid for (rid,) in connection.execute(text("SELECT id FROM response WHERE follow_up"))}
            assert cases and flagged == cases
            # core_0020 counts each dossier's ratings on its row and every dossier's events
            rated = dict(connection.execute(text("SELECT dossier_id, COUNT(*) FROM response "
                                                 "WHERE dossier_id IS NOT NULL GROUP BY dossier_id")).all())
            counted = dict(connection.execute(text("SELECT id, responses FROM dossier WHERE responses <> 0")).all())
            assert rated and counted == rated
            for grain in ("day", "month", "year"):  # core_0022 adds the year rows
                received = connection.scalar(text("SELECT SUM(dossiers) FROM dossier_event_tally "
                                                  "WHERE kind = 'received' AND grain = :grain"), {"grain": grain})
                assert received == connection.scalar(text("SELECT COUNT(*) FROM dossier")) > 0
    finally:
        engine.dispose()


@contextmanager
def _loaded_postgres(postgres_server: str, release: Path) -> Iterator[str]:
    """A fresh database on the test cluster, loaded from the release's plain-SQL dump with psql."""
    name = f"sipas_release_{release.name.replace('.', '_')}_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name)
    try:
        env = os.environ | ({"PGPASSWORD": url.password} if url.password else {})
        loaded = subprocess.run([_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1",
                                 "-p", str(url.port or 5432), "-U", url.username or "postgres", "-d", name,
                                 "-f", str(release / "postgresql.sql")], capture_output=True, text=True, env=env,
                                timeout=120)
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _psql() -> str:
    from tests.pgcluster import _bin_dir

    bin_dir = _bin_dir()
    found = str(bin_dir / "psql") if bin_dir and (bin_dir / "psql").exists() else shutil.which("psql")
    if found is None:
        pytest.fail("psql not found: install postgresql-client (make system-deps-test)", pytrace=False)
    return found


@pytest.mark.parametrize(("backend", "release"), [(b, r) for b in ("sqlite", "postgresql") for r in RELEASES],
                         ids=[f"{b}-{r}" for b in ("sqlite", "postgresql") for r in RELEASES])
def test_upgrade_from_release(backend, release, request, tmp_path, monkeypatch):
    folder = FIXTURES / release
    if backend == "sqlite":
        path = tmp_path / "release.db"
        shutil.copyfile(folder / "sipas.sqlite3", path)
        _check_upgrade(f"sqlite:///{path}", tmp_path, monkeypatch)
        return
    with _loaded_postgres(request.getfixturevalue("postgres_server"), folder) as url:
        _check_upgrade(url, tmp_path, monkeypatch)
