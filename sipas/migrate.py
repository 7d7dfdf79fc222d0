"""Schema migrations with Alembic, configured in code.

The core has its own chain; each channel keeps its tables on a branch of its own (branch label =
channel name) that starts from the core's first revision, so ``upgrade heads`` applies them all.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
#: ``flock`` of a folder where the file system cannot lock one: NFS emulates it with a byte-range lock, which needs a
#: file open for writing (EBADF), or has no lock server (ENOLCK); others do not lock at all (EOPNOTSUPP, EINVAL)
_CANNOT_LOCK = (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


#: The PostgreSQL advisory lock held by ``sipas db upgrade`` (any constant; this one spells "sipasdbu").
UPGRADE_LOCK = 0x7369706173646275


def upgrade(database_url: str) -> None:
    """Apply every pending migration, one upgrade at a time: each web host runs one before it starts
    (``ExecStartPre`` of ``sipas-web.service``), so two hosts starting together both ran the whole chain from the
    version each had read, and one failed half-way (``tests/multihost/test_concurrent_upgrade.py``). The second
    now waits for the first and then finds nothing left to do."""
    with _one_upgrade_at_a_time(database_url):
        command.upgrade(alembic_config(database_url), "heads")


@contextmanager
def _one_upgrade_at_a_time(database_url: str) -> Iterator[None]:
    """PostgreSQL: a session advisory lock on a connection of its own (the hosts share only the database).
    SQLite: an exclusive ``flock`` of the database file's folder (one machine; not of the file itself, whose POSIX
    locks SQLite holds and which closing another descriptor of it would drop). Where the folder's file system
    cannot lock it (NFS: EBADF or ENOLCK) the upgrade runs alone, as it did before it took turns."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK})
                    connection.commit()
        finally:
            engine.dispose()
    elif url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        parent = Path(url.database).resolve().parent
        parent.mkdir(parents=True, exist_ok=True)  # a first upgrade makes the database, and its folder with it
        folder = os.open(parent, os.O_RDONLY)
        try:
            try:
                fcntl.flock(folder, fcntl.LOCK_EX)
            except OSError as exc:  # the upgrade runs alone, as before the lock came, rather than not at all
                if exc.errno not in _CANNOT_LOCK:
                    raise
                log.warning("Không khóa được thư mục %s để nâng cấp (%s): hai lần nâng cấp cùng lúc sẽ không chờ nhau",
                            parent, errno.errorcode.get(exc.errno or 0, exc))
            yield
        finally:
            os.close(folder)  # releases the lock
    else:
        yield


def is_up_to_date(engine: Engine, database_url: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == set(script.get_heads())
