"""The dossier search by a part of its code, served by a trigram index (issue 14; ``core_0033``).

A search finds the dossiers whose code contains the words, without case (SQLAlchemy's ``icontains``: SQLite's
``lower(code) LIKE '%…%'``, PostgreSQL's ``code ILIKE '%…%'``, with ``%``, ``_`` and ``/`` taken literally). No
B-tree serves a substring: a province admin's search read the 1.1 M codes of the (unit, code) index, 2.5–4.5 s.
Both backends keep a trigram index of the codes; the condition the console writes stays the plain one, so the
index only chooses which rows are tested and the results are the same:

- SQLite: ``dossier_code_fts``, an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or later) whose
  content is ``dossier.code`` (external content, ``content_rowid`` the dossier's id), kept by three triggers on
  ``dossier`` (insert, delete, and an update *of code* only: a rating's update of ``responses`` does not fire
  it). ``candidates`` is the phrase of the words, matched without case (FTS5 folds every letter, the plain
  ``lower()`` of SQLite only ASCII ones: the phrase finds a superset, the plain condition keeps what it keeps).
- PostgreSQL: ``ix_dossier_code_trgm``, a GIN index of ``code`` with ``gin_trgm_ops`` (extension ``pg_trgm``,
  trusted since PostgreSQL 13). The planner uses it for the plain ``ILIKE`` itself (and rechecks every row). A
  role that may not create the extension gets no index: the migration logs it and the search reads the codes as
  before.

Trigrams need three characters: a shorter search reads the codes as before (stopping at the search's cap).
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import ColumnElement, Connection, column, table, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

FTS_TABLE = "dossier_code_fts"
#: the FTS5 table's own tables (SQLite creates them; they are no model's)
FTS_SHADOW_TABLES = tuple(f"{FTS_TABLE}_{suffix}" for suffix in ("data", "idx", "docsize", "config"))
TRIGGERS = ("dossier_code_fts_insert", "dossier_code_fts_delete", "dossier_code_fts_update")
TRGM_INDEX = "ix_dossier_code_trgm"
#: what this module keeps outside the models (a schema comparison with the models leaves them out)
OUTSIDE_MODELS = frozenset({FTS_TABLE, *FTS_SHADOW_TABLES, TRGM_INDEX})
MIN_LENGTH = 3  # a trigram
SQLITE_TRIGRAM = (3, 34, 0)  # FTS5's trigram tokenizer

FTS = table(FTS_TABLE, column("rowid"))

_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER dossier_code_fts_insert AFTER INSERT ON dossier BEGIN "
    f"INSERT INTO {FTS_TABLE} (rowid, code) VALUES (NEW.id, NEW.code); END",
    f"CREATE TRIGGER dossier_code_fts_delete AFTER DELETE ON dossier BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, code) VALUES ('delete', OLD.id, OLD.code); END",
    f"CREATE TRIGGER dossier_code_fts_update AFTER UPDATE OF code ON dossier BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, code) VALUES ('delete', OLD.id, OLD.code); "
    f"INSERT INTO {FTS_TABLE} (rowid, code) VALUES (NEW.id, NEW.code); END",
)


def outside_models(difference: object) -> bool:
    """Whether an autogenerate difference (``alembic.autogenerate.compare_metadata``) is one of these objects."""
    return isinstance(difference, tuple) and getattr(difference[-1], "name", None) in OUTSIDE_MODELS


def sqlite_has_trigram(version: tuple[int, ...] = sqlite3.sqlite_version_info) -> bool:
    return version >= SQLITE_TRIGRAM


def install(connection: Connection) -> bool:
    """Create the index of the codes and fill it from the stored dossiers (the migration); False, with a log line,
    where the database cannot have one (SQLite before 3.34, PostgreSQL without ``pg_trgm`` for this role)."""
    if connection.dialect.name == "sqlite":
        if not sqlite_has_trigram():
            log.warning("SQLite %s has no FTS5 trigram tokenizer (3.34 or later): the dossier search by a part "
                        "of a code reads every code", sqlite3.sqlite_version)
            return False
        connection.execute(text(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(code, content='dossier', "
                                f"content_rowid='id', tokenize='trigram')"))
        rebuild(connection)
        install_triggers(connection)
        return True
    if not _pg_trgm(connection):
        return False
    connection.execute(text(f"CREATE INDEX {TRGM_INDEX} ON dossier USING gin (code gin_trgm_ops)"))
    return True


def _pg_trgm(connection: Connection) -> bool:
    if connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION pg_trgm"))
    except Exception as error:
        log.warning("No trigram index of the dossier codes: CREATE EXTENSION pg_trgm failed (%s); the dossier "
                    "search by a part of a code reads every code. With the extension (a superuser: CREATE EXTENSION "
                    "pg_trgm), the index is CREATE INDEX %s ON dossier USING gin (code gin_trgm_ops)",
                    str(error).splitlines()[0], TRGM_INDEX)
        return False
    return True


def uninstall(connection: Connection) -> None:
    """Drop the index (the downgrade). The extension ``pg_trgm`` stays: other objects may use it."""
    if connection.dialect.name == "sqlite":
        drop_triggers(connection)
        connection.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
    else:
        connection.execute(text(f"DROP INDEX IF EXISTS {TRGM_INDEX}"))


def install_triggers(connection: Connection) -> None:
    """The triggers that keep ``dossier_code_fts`` (SQLite; the benchmark generator after a bulk load)."""
    if connection.dialect.name == "sqlite" and _has_fts(connection):
        for statement in _SQLITE_TRIGGERS:
            connection.execute(text(statement))


def drop_triggers(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for name in TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def rebuild(connection: Connection) -> None:
    """Fill ``dossier_code_fts`` again from every dossier's code (SQLite; after a bulk load without triggers)."""
    if connection.dialect.name == "sqlite" and _has_fts(connection):
        connection.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')"))


def _has_fts(connection: Connection) -> bool:
    return connection.scalar(text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": FTS_TABLE}) == 1


def fts_available(session: Session) -> bool:
    """Whether this SQLite database has ``dossier_code_fts``, asked once per connection (PostgreSQL: False, its
    index serves the plain condition)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    info = connection.connection.info
    if FTS_TABLE not in info:
        info[FTS_TABLE] = _has_fts(connection)
    return bool(info[FTS_TABLE])


def phrase(q: str) -> str:
    """``q`` as one FTS5 phrase: the rows whose code contains it, without case (every character literal)."""
    return '"' + q.replace('"', '""') + '"'


def matches(q: str) -> ColumnElement[bool]:
    """The FTS5 condition: the dossiers (joined by ``FTS.c.rowid``) whose code may contain ``q`` (a superset of
    the plain condition's, which the caller keeps)."""
    return text(f"{FTS_TABLE} MATCH :code_phrase").bindparams(code_phrase=phrase(q))  # type: ignore[return-value]
