"""Engine and session setup; the one module of the core that knows Flask.

A request gets one session (``db_session()``), closed at teardown. Services flush; the route or
job that called them commits once.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from sipas import pg_intake
from sipas.settings import Settings

#: FULL: a commit returns only once the WAL is synced to disk, so an acknowledged rating survives a
#: power loss (NORMAL may lose the last transactions). Cost measured by bench/sqlite_synchronous.py.
SQLITE_SYNCHRONOUS = "FULL"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred transaction that read first and writes later fails at once with "database is
    # locked" when another writer committed in between (busy_timeout does not help). Sessions that
    # write take the write lock at BEGIN so writers queue instead and the unique constraint decides
    # duplicates; read-only sessions stay deferred so they never block writers (WAL).
    mode = connection.get_execution_options().get("sqlite_begin")
    if mode == "on_write":
        return  # _sqlite_lock_on_write begins the transaction (IMMEDIATE) at the first write
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def _sqlite_lock_on_write(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    # Intake (one rating per request): the reads before the first write (key, unit, dossier, known
    # idempotency key) run outside any transaction, each on the latest committed state; the write
    # lock is taken by BEGIN IMMEDIATE just before the first statement that is not a plain SELECT,
    # so it is held only for the insert and the commit, never while parsing, validating or reading.
    # Everything from that statement on (savepoints, the unique constraint, re-reads) is one
    # serialised transaction as before.
    if connection.get_execution_options().get("sqlite_begin") != "on_write":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.in_transaction or statement.lstrip()[:6].upper() == "SELECT":
        return
    # Intake writers queue before SQLite's lock: a waiting writer is woken the moment the one before
    # it is done, where SQLite's busy handler would sleep 1, 2, 5 … 100 ms between tries.
    database = str(connection.engine.url.database)
    queue = _write_queue(database)
    if queue.enter(WRITE_QUEUE_TIMEOUT):
        connection.info["sipas_write_queue"] = queue
    try:
        if _on_disk(database):
            # The commit writes the log without syncing it; the sync follows after the lock is let go, shared
            # with the writers that committed meanwhile (``WalSync``), before the request is answered.
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
            connection.info["sipas_wal_sync"] = _wal_sync(database)
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except BaseException:
        _leave_write_queue(connection.info)
        _end_intake_transaction(dbapi_connection, connection.info)
        raise


def _on_disk(database: str) -> bool:
    return bool(database) and database != ":memory:"


class WriteQueue:
    """The intake writers of one SQLite file, in every process that serves it.

    The threads of a process queue on a ``threading.Lock`` (at most ``timeout``, then they go on to
    SQLite's own lock as before); the one at its head then queues with the other processes on an
    exclusive ``flock`` of a file beside the database (``<database>-writers``). Both wake a waiter the
    moment the holder lets go, where SQLite's busy handler sleeps 1, 2, 5 … 100 ms between tries (measured
    by bench/intake.py: +30–65% ratings a second at 32 clients, p99 a quarter). The holder keeps both
    from ``BEGIN IMMEDIATE`` to the end of its transaction, so it finds SQLite's lock free unless a
    writer that does not queue here (a clerk's form, a job) holds it, and SQLite's busy timeout decides
    that case as before.

    The ``flock`` wait has no timeout of its own, and needs none: at most one thread of each other
    process is ahead (the others wait on their own process's lock), each holds it for one transaction,
    itself bounded by SQLite's busy timeout, and the kernel drops the lock of a process that dies. The one
    longer holder is a dossier import's swap (``write_queue_held``): ratings wait for it rather than be refused.
    """

    def __init__(self, database: str) -> None:
        self.threads = threading.Lock()
        self.path = f"{database}-writers" if _on_disk(database) else ""
        self._fd: int | None = None  # open while this process's writer holds the queue (closing unlocks)

    def enter(self, timeout: float) -> bool:
        """Queue for the write; False when the threads' queue took longer than ``timeout``."""
        if not self.threads.acquire(timeout=timeout):
            return False
        try:
            if self.path:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:
            self._close()  # e.g. a read-only folder: SQLite's lock alone decides, as without the queue
        except BaseException:
            self._close()
            self.threads.release()
            raise
        return True

    def leave(self) -> None:
        self._close()
        self.threads.release()

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


#: Intake writers per SQLite file: see ``_sqlite_lock_on_write`` and ``WriteQueue``.
_WRITE_QUEUES: dict[str, WriteQueue] = {}
_WRITE_QUEUES_LOCK = threading.Lock()
WRITE_QUEUE_TIMEOUT = 15.0  # as long as the busy timeout; after it the thread goes on to SQLite's own lock


@contextmanager
def write_queue_held(session: Session) -> Iterator[None]:
    """SQLite: hold the intake writers' queue (``WriteQueue``) for the transactions of ``session`` inside the block,
    which must begin inside it (the session's transaction is committed first). For a long write that must stay one
    transaction (the import's swap): an intake writer of another process then waits on the queue's ``flock`` until
    the block ends, one of this process on the threads' lock (``WRITE_QUEUE_TIMEOUT``) and then on SQLite's lock,
    where it gave up after the busy timeout (15 s: a rating refused, 503 ``database_busy``, behind a 100,000-row
    swap on a busy machine). Nothing on PostgreSQL, where a rating waits on no lock of the swap's but its dossier's
    row."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    session.commit()  # the queue before SQLite's lock, as every queued writer takes them (no cycle)
    queue = _write_queue(str(bind.url.database))
    entered = queue.enter(WRITE_QUEUE_TIMEOUT)
    try:
        yield
    finally:
        if entered:
            queue.leave()


_Shared = TypeVar("_Shared")


def _one_per_database(registry: dict[str, _Shared], database: str, make: Callable[[str], _Shared]) -> _Shared:
    """The object of this process for one SQLite file (made once, whichever thread asks first)."""
    found = registry.get(database)
    if found is None:
        with _WRITE_QUEUES_LOCK:
            found = registry.setdefault(database, make(database))
    return found


def _write_queue(database: str) -> WriteQueue:
    return _one_per_database(_WRITE_QUEUES, database, WriteQueue)


def _leave_write_queue(info: dict[str, Any]) -> None:
    queue = info.pop("sipas_write_queue", None)
    if queue is not None:
        queue.leave()


class WalSync:
    """Group commit for intake on SQLite: one ``fsync`` of the write-ahead log for every writer that committed
    while the previous one ran, outside SQLite's write lock.

    With ``synchronous=FULL`` each commit syncs the log before it returns, under the write lock, so the next
    writer waits for the disk (measured: half of the time a rating holds the lock). An intake transaction
    commits with ``NORMAL`` instead (the log written, not synced), lets the lock go, and then calls ``sync``,
    which returns only once an ``fsync`` of the log that began after that commit has finished: the rating is
    on disk before the request is answered, as with ``FULL``, while the next writer already runs. A sync in
    progress when a writer arrives may have begun before its commit, so that writer waits for the next one,
    which covers everyone who arrived meanwhile.

    Why this is as safe as ``FULL``: the commit's frames and the log's header are in the log file, and one
    ``fsync`` of the file makes them durable together; SQLite reuses the log from its start only after a
    checkpoint that copied every frame into the database file and synced that file (as it does with
    ``NORMAL``), so an earlier acknowledged commit is never only in a part of the log being rewritten; and a
    log that no longer exists was checkpointed into the synced database file. The folder is synced too when
    the log file is new (a new file's name is on disk only then), as SQLite does with ``FULL``.
    """

    def __init__(self, database: str) -> None:
        self.log = f"{database}-wal"
        self.folder = os.path.dirname(os.path.abspath(database))
        self._cond = threading.Condition()
        self._requested = 0  # tickets handed out, one per sync() call
        self._synced = 0  # every ticket up to this one is covered by a finished fsync
        self._syncing = False
        self._inode: int | None = None  # of the log file last synced: a new one means its folder entry is new

    def sync(self) -> None:
        """Return once an ``fsync`` of the log that began after this call has finished (or raise its error)."""
        with self._cond:
            self._requested += 1
            ticket = self._requested
            while self._synced < ticket:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing, covered = True, self._requested
                self._cond.release()
                try:
                    self._fsync()
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                self._synced = max(self._synced, covered)

    def _fsync(self) -> None:
        try:
            fd = os.open(self.log, os.O_RDONLY)
        except FileNotFoundError:
            return  # checkpointed into the database file and removed: SQLite synced that file
        try:
            os.fsync(fd)
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        if inode != self._inode:
            folder = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._inode = inode


_WAL_SYNCS: dict[str, WalSync] = {}


def _wal_sync(database: str) -> WalSync:
    return _one_per_database(_WAL_SYNCS, database, WalSync)


#: The log sync this thread owes after its intake commit: noted when the connection goes back to the pool, made
#: once the session's transaction has ended (``_sync_owed_log``), not in the pool's event, where an error would
#: keep the connection out of the pool.
_OWED = threading.local()


def _end_intake_transaction(dbapi_connection: Any, info: dict[str, Any]) -> None:
    """Give the connection its ``synchronous=FULL`` back and, when its intake transaction committed, note the
    shared sync of the log (``WalSync``) that ``_sync_owed_log`` then waits for."""
    wal_sync = info.pop("sipas_wal_sync", None)
    if wal_sync is None:
        return
    if info.pop("sipas_committed", False):
        _OWED.wal_sync = wal_sync
    try:
        dbapi_connection.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    except sqlite3.Error:
        # A connection closed or broken (pool close/invalidate events) is not used again; a healthy one that
        # failed here must not serve another writer with NORMAL: the pool is told to drop it.
        info["sipas_discard"] = True


def _sync_owed_log(_session: Session, _transaction: Any) -> None:
    """An intake session's transaction has ended, its connection back in the pool (the write lock and the writers'
    queue gone to the next writer): when it committed, wait for the shared ``fsync`` of the log. Its error is
    raised from the session's ``commit``, so the request fails instead of answering a rating as stored."""
    wal_sync, _OWED.wal_sync = getattr(_OWED, "wal_sync", None), None
    if wal_sync is not None:
        wal_sync.sync()


def _sqlite_committing(connection: Any) -> None:
    if "sipas_wal_sync" in connection.info:
        connection.info["sipas_committed"] = True


def _sqlite_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if record.info.pop("sipas_discard", False):
        raise DisconnectionError("synchronous=FULL could not be restored on this connection")  # the pool opens another


def _sqlite_connection_returned(dbapi_connection: Any, record: Any, *_args: Any) -> None:
    # The session gives its connection back right after its commit or rollback (and on close, error or
    # invalidation): the transaction is over, the next writer of this process may go; if it committed, the
    # session syncs the log next (``_sync_owed_log``), outside the lock, before the request is answered.
    if record is not None:
        _leave_write_queue(record.info)
        if dbapi_connection is not None:
            _end_intake_transaction(dbapi_connection, record.info)


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself


def private_sqlite_file(path: str) -> None:
    """Create a SQLite database file that does not exist yet, empty (SQLite's empty database) and readable by its
    owner only, whatever the umask: it holds citizens' phone numbers and the password and API-key hashes, and SQLite
    gives its -wal and -shm files the database file's mode. An existing file is left as it is."""
    if not _on_disk(path):
        return
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        private_sqlite_file(make_url(database_url).database or "")
        engine = create_engine(database_url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_autocommit_driver)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_lock_on_write)
        event.listen(engine, "commit", _sqlite_committing)
        event.listen(engine.pool, "checkout", _sqlite_checkout)
        for name in ("checkin", "close", "invalidate", "detach"):
            event.listen(engine.pool, name, _sqlite_connection_returned)
        return engine
    # hide_parameters: an error logged with its SQL must not carry phone numbers or comments.
    engine = create_engine(database_url, pool_size=5, max_overflow=10, hide_parameters=True)
    pg_intake.install(engine)  # intake: reads outside a transaction until the first write (sipas.pg_intake)
    event.listen(engine.pool, "checkin", _idle_from_now)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


#: A pooled PostgreSQL connection idle longer than this is pinged before use (below).
PING_AFTER_IDLE_SECONDS = 10.0


def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
    record.info["sipas_idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's ``pool_pre_ping`` for connections that sat idle: a server restarted, or a firewall that dropped
    an idle connection, costs no request its answer; a connection back in use within seconds is not pinged.

    ``pool_pre_ping`` pinged at every checkout: a round trip per request, one in four of an API rating's on
    PostgreSQL. A connection that breaks while the pool keeps it busy (a restart under load) fails its request
    with 503 and Retry-After (``sipas.errors``), and SQLAlchemy then renews every older connection of the pool:
    one such answer per worker, which clients retry (``tests/trust/test_database_outage.py``)."""
    since = record.info.get("sipas_idle_since")
    if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi_connection, None):
            raise DisconnectionError("idle connection found broken") from exc  # the pool connects anew
        raise


class Database:
    """``sessionmaker`` is for work that writes (on SQLite it begins IMMEDIATE); ``read_sessionmaker``
    for work that only reads (GET pages). On PostgreSQL both are the same."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url)
        self.sessionmaker = sessionmaker(self.engine.execution_options(sqlite_begin="immediate"),
                                         expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        #: For intake requests (see ``lock_on_write``): on SQLite the write lock waits for the first write.
        self.intake_sessionmaker = sessionmaker(self.engine.execution_options(sqlite_begin="on_write",
                                                                              postgresql_begin=pg_intake.ON_WRITE),
                                                expire_on_commit=False)
        event.listen(self.intake_sessionmaker, "after_transaction_end", _sync_owed_log)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for CLI commands and jobs: commits on success, rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    app.extensions["sipas_db"] = database
    app.teardown_appcontext(_close_session)


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["sipas_db"]


def db_session() -> Session:
    """The session of the current request or app context (a read session for GET/HEAD requests)."""
    if "sipas_session" not in g:
        database = get_database()
        reading = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        maker = database.read_sessionmaker if reading else database.sessionmaker
        g.sipas_session = (database.intake_sessionmaker if g.get("sipas_lock_on_write") else maker)()
    return g.sipas_session


F = TypeVar("F", bound=Callable[..., Any])


def lock_on_write(view: F) -> F:
    """A POST view that reads and checks first and writes at the end (intake): its session takes
    SQLite's write lock only at its first write instead of at its first query (see
    ``_sqlite_lock_on_write``), and on PostgreSQL begins its transaction only there (``sipas.pg_intake``).
    Only for views whose reads need not be serialised with the write: a check-then-insert must rest on a
    unique constraint or an atomic statement, as intake's do."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.sipas_lock_on_write = True
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("sipas_session", None)
    if session is not None:
        session.close()
