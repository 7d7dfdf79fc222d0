"""Two hosts start at once: each web unit runs ``sipas db upgrade`` before gunicorn (``ExecStartPre`` in
``deploy/systemd/sipas-web.service``), so with several web hosts (docs/scaling.md) two upgrades of one database
run at the same time, at the first start and after every release. Both must succeed, the migrations applied once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sipas.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = "import sys; from sipas.migrate import upgrade; upgrade(sys.argv[1])"


@pytest.fixture
def empty_postgres(postgres_server: str) -> Iterator[str]:
    name = f"sipas_concurrent_upgrade_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_upgrades_at_once_both_succeed(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite" else request.getfixturevalue("empty_postgres")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    runs = [subprocess.Popen([sys.executable, "-c", UPGRADE, url], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read() if run.stderr else "") for run in runs]
    for run in runs:
        for stream in (run.stdout, run.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in results] == [0, 0], [err[-1500:] for _, err in results]
    _assert_at_the_heads(url)


def test_an_upgrade_runs_where_the_folder_cannot_be_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On NFS the kernel emulates ``flock`` with a byte-range lock, which needs a file open for writing: the exclusive
    lock of a folder (open read-only, as every folder is) fails with EBADF, and a lock server that is not running gives
    ENOLCK. ``sipas db upgrade`` then failed every time where it ran before the lock came; with nothing to take turns
    with it runs alone, as it did."""
    import errno

    from sipas import migrate

    def refused(_fd: int, _operation: int) -> None:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(migrate.fcntl, "flock", refused)
    url = f"sqlite:///{tmp_path / 'on-nfs' / 'sipas.db'}"
    migrate.upgrade(url)
    _assert_at_the_heads(url)


def _assert_at_the_heads(url: str) -> None:
    """The database at ``url`` stands at every head of the migrations."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            heads = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    assert heads == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
