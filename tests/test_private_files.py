"""The SQLite database is its owner's alone: it holds citizens' phone numbers, password and API-key hashes.

The secret key, the demo accounts and the backup archives were written mode 0600, but the database file itself
was created with the process's umask: 0644 under systemd's default (or root's shell at `sipas db upgrade`), so
every local account of the ward's machine could copy it, and its -wal and -shm files (SQLite gives them the
database file's mode). A new database file is now created 0600, whoever creates it: the migrations, the app,
a restore.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sipas.backup import create_backup, restore_backup
from sipas.clock import utcnow
from sipas.migrate import upgrade
from sipas.settings import Settings
from sipas.storage import Database


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _others_can_read(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def _settings(folder: Path) -> Settings:
    return Settings.from_env({}, database_url=f"sqlite:///{folder / 'sipas.db'}", secret_key="test-secret-key",
                             instance_dir=folder, testing=True)


def test_the_database_made_by_the_migrations_and_its_log_files_are_private(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "instance")
    upgrade(settings.database_url)
    database = Database(settings)
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            files = sorted(tmp_path.glob("instance/sipas.db*"))
            assert {p.name for p in files} >= {"sipas.db", "sipas.db-wal", "sipas.db-shm"}
            assert [p.name for p in files if _others_can_read(p)] == []
    finally:
        database.dispose()


def test_a_database_made_by_the_app_is_private(tmp_path: Path) -> None:
    database = Database(_settings(tmp_path))
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        database.dispose()
    assert not _others_can_read(tmp_path / "sipas.db")


def test_a_database_made_by_a_restore_is_private(tmp_path: Path) -> None:
    source = _settings(tmp_path / "before")
    upgrade(source.database_url)
    archive = create_backup(source, tmp_path / "backups", now=utcnow())
    target = _settings(tmp_path / "after")
    restore_backup(target, archive)
    assert not _others_can_read(tmp_path / "after" / "sipas.db")


@pytest.mark.parametrize("unit", ["sipas-web.service", "sipas-scheduler.service"])
def test_the_services_create_files_other_accounts_cannot_read(unit: str) -> None:
    """What the services write besides the database (console uploads of dossiers with phone numbers in
    instance/imports, the notices' PDFs, the metrics) was created with systemd's default umask 0022."""
    text = (Path(__file__).resolve().parents[1] / "deploy" / "systemd" / unit).read_text(encoding="utf-8")
    umask = [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("UMask=")]
    assert len(umask) == 1 and int(umask[0], 8) & 0o007 == 0o007, umask
