"""Fixtures of the trust tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sipas.app import create_app
from sipas.settings import Settings
from sipas.storage import get_database


@pytest.fixture
def sqlite_app(sqlite_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on its own SQLite file (a copy of the migrated template): the write lock and the log's sync are
    SQLite's, whichever backend the run is parametrised with."""
    path = tmp_path / "intake.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(Settings.from_env({}, database_url=f"sqlite:///{path}", secret_key="test-secret-key",
                                       instance_dir=tmp_path / "instance", secure_cookies=False, testing=True))
    yield app
    get_database(app).dispose()
