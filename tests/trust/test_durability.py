"""An acknowledged rating is on disk: SQLite syncs the WAL at every commit (``synchronous=FULL``).

With ``NORMAL`` a commit in WAL mode returns before the log is synced, so a power cut (common in ward
offices) can take back ratings the kiosk was told were stored.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from sipas.settings import Settings
from sipas.storage import Database


def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    database = Database(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'd.db'}", secret_key="t"))
    try:
        for sessionmaker in (database.sessionmaker, database.read_sessionmaker):
            with sessionmaker() as session:
                assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
                assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        database.dispose()
