"""One archive holds everything a restore needs: the database and the instance secret.

The secret keys the phone-number hashes (opt-outs, invitations) and the kiosk pairing tokens: a
database restored without it forgets every opt-out and unpairs every kiosk. An archive is a tar file:

- ``manifest.json``: format, creation time, sipas version, backend, schema revisions, row counts per
  table, and the size and SHA-256 of every other member;
- ``database.sqlite3`` (SQLite online backup API, safe while the server runs) or ``database.pgdump``
  (``pg_dump -Fc`` by the client binaries matching the server's major version);
- ``secret_key``: the secret in force (``SIPAS_SECRET_KEY`` or ``instance/secret_key``).

A restore checks the manifest and the checksums first, refuses a database that already has units unless
forced, and puts the secret back into ``instance/secret_key``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from sipas.settings import Settings, env_bool, env_int

FORMAT = "sipas-backup/1"
ARCHIVE_PATTERN = re.compile(r"^sipas-backup-\d{8}T\d{6}Z\.tar$")
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
SECRET_MEMBER = "secret_key"
PG_BIN_ROOT = Path("/usr/lib/postgresql")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupSettings:
    enabled: bool
    directory: Path
    keep: int
    hour: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BackupSettings:
        env = settings.env
        directory = Path(env.get("SIPAS_BACKUP_DIR") or settings.instance_dir / "backups")
        hour = env_int(env, "SIPAS_BACKUP_HOUR", 2, maximum=23)  # the hour of the day the daily backup runs
        return cls(enabled=env_bool(env, "SIPAS_BACKUP_ENABLED", True), directory=directory,
                   keep=env_int(env, "SIPAS_BACKUP_KEEP", 14, minimum=1), hour=hour)


def _sipas_version() -> str:
    try:
        return version("sipas")
    except PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def effective_secret(settings: Settings) -> tuple[str, str]:
    """The secret in force and where it comes from (``environment`` or ``instance``)."""
    if settings.secret_key:
        return settings.secret_key, "environment"
    from sipas.instance_secret import _instance_secret

    return _instance_secret(settings), "instance"


def _revisions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return []
        return sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, recorded in the manifest and compared after a restore."""
    from sqlalchemy import table

    with engine.connect() as connection:
        names = sorted(n for n in inspect(connection).get_table_names() if n != "alembic_version")
        return {name: connection.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("cơ sở dữ liệu SQLite nằm trong bộ nhớ, không có tệp để sao lưu")
    return Path(url.database)


def pg_major(engine: Engine) -> int:
    """The PostgreSQL server's major version (15 for 15.4)."""
    with engine.connect() as connection:
        return int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000


def _pg_binary(engine: Engine, name: str) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version (an older client refuses a newer server)."""
    major = pg_major(engine)
    candidate = PG_BIN_ROOT / str(major) / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"không tìm thấy {name} cho PostgreSQL {major}, hãy cài gói postgresql-client-{major}")
    return found


def _pg_command(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments; the password goes through the environment, not the command line."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


#: the functions of the current schema that no extension owns (what a dump of the schema recreates)
_OWN_FUNCTIONS = """SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"""


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        stderr = result.stderr.strip()
        # the first error says what failed; the tail of a long message is the SQL it was running
        first = next((line.strip() for line in stderr.splitlines() if "error" in line.lower()), "")
        detail = stderr[-2000:] if not first or first in stderr[-2000:] else f"{first} … {stderr[-1500:]}"
        raise BackupError(f"{Path(command[0]).name} báo lỗi: {detail}")


def create_backup(settings: Settings, output_dir: Path, *, now: datetime) -> Path:
    """Write one archive into ``output_dir`` and return its path (written aside, then renamed into place)."""
    url = make_url(settings.database_url)
    engine = create_engine(settings.database_url)
    output_dir.mkdir(parents=True, exist_ok=True)
    name = f"sipas-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar"
    try:
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".backup-") as scratch:
            work = Path(scratch)
            if url.get_backend_name() == "sqlite":
                member = work / SQLITE_MEMBER
                source = sqlite3.connect(_sqlite_path(url))
                target = sqlite3.connect(member)
                try:
                    source.backup(target)  # a consistent copy while other processes write
                finally:
                    target.close()
                    source.close()
                copy = create_engine(f"sqlite:///{member}")
                try:
                    counts, revisions = row_counts(copy), _revisions(copy)
                finally:
                    copy.dispose()
                tool = f"sqlite {sqlite3.sqlite_version}"
            else:
                member = work / PG_MEMBER
                pg_dump = _pg_binary(engine, "pg_dump")
                args, env = _pg_command(url)
                # Counted in one snapshot with the dump would need pg_dump's snapshot; counts are informative.
                counts, revisions = row_counts(engine), _revisions(engine)
                _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--file", str(member), *args],
                     env)
                tool = subprocess.run([pg_dump, "--version"], capture_output=True, text=True,
                                      check=False).stdout.strip()
            secret, secret_source = effective_secret(settings)
            (work / SECRET_MEMBER).write_text(secret)
            files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in (member, work / SECRET_MEMBER)}
            manifest = {
                "format": FORMAT, "created_at": now.isoformat(), "sipas_version": _sipas_version(),
                "backend": url.get_backend_name(), "tool": tool, "revisions": revisions,
                "secret_source": secret_source, "row_counts": counts, "files": files,
            }
            partial = work / name
            with tarfile.open(partial, "w") as archive:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                archive.addfile(info, io.BytesIO(data))
                for member_name in files:
                    archive.add(work / member_name, arcname=member_name, filter=_private)
            os.chmod(partial, 0o600)  # it holds the secret
            final = output_dir / name
            _give_to_folder_owner(partial, output_dir)
            os.replace(partial, final)
            return final
    finally:
        engine.dispose()


def _give_to_folder_owner(archive: Path, folder: Path) -> None:
    """Written by root (``sipas backup`` typed in root's shell), the archive goes to the owner of its folder, the
    service user's /var/backups/sipas: the documented restore (``runuser -u sipas -- sipas restore``) can read it.
    Still mode 0600."""
    if os.geteuid() != 0:
        return
    owner = folder.stat()
    if owner.st_uid != 0:
        os.chown(archive, owner.st_uid, owner.st_gid)


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def read_manifest(archive_path: Path) -> dict:  # type: ignore[type-arg]
    try:
        with tarfile.open(archive_path, "r") as archive:
            handle = archive.extractfile("manifest.json")
            if handle is None:
                raise KeyError("manifest.json")
            manifest = json.loads(handle.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        from sipas.os_errors import reason_vi

        why = ("không phải tệp tar" if isinstance(exc, tarfile.TarError)
               else "không có manifest.json" if isinstance(exc, KeyError)
               else reason_vi(exc) if isinstance(exc, OSError)
               else "manifest.json không phải JSON")
        raise BackupError(f"tệp không phải bản sao lưu của sipas: {archive_path} ({why})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"bản sao lưu có định dạng không đọc được (cần định dạng {FORMAT}): "
                          f"{manifest.get('format')!r}")
    return manifest


def _extract_checked(archive_path: Path, manifest: dict, into: Path) -> None:  # type: ignore[type-arg]
    with tarfile.open(archive_path, "r") as archive:
        for name, expected in manifest["files"].items():
            if "/" in name or name.startswith("."):
                raise BackupError(f"bản sao lưu có thành phần lạ, không khôi phục: {name!r}")
            handle = archive.extractfile(name)
            if handle is None:
                raise BackupError(f"bản sao lưu thiếu thành phần: {name}")
            with (into / name).open("wb") as out:
                shutil.copyfileobj(handle, out)
            if _sha256(into / name) != expected["sha256"]:
                raise BackupError(f"bản sao lưu bị hỏng, mã kiểm tra (SHA-256) không khớp: {name}")


def _known_revisions(database_url: str) -> set[str]:
    from alembic.script import ScriptDirectory

    from sipas.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(database_url))
    return {revision.revision for revision in script.walk_revisions()}


def unit_count(engine: Engine) -> int:
    with engine.connect() as connection:
        if not inspect(connection).has_table("unit"):
            return 0
        return connection.scalar(text("SELECT count(*) FROM unit")) or 0


def restore_backup(settings: Settings, archive_path: Path, *, force: bool = False) -> dict:  # type: ignore[type-arg]
    """Put the archive's database and secret in place; returns the manifest. Stop the services first."""
    manifest = read_manifest(archive_path)
    url = make_url(settings.database_url)
    if manifest["backend"] != url.get_backend_name():
        raise BackupError(f"bản sao lưu chứa cơ sở dữ liệu {manifest['backend']}, còn SIPAS_DATABASE_URL trỏ tới "
                          f"{url.get_backend_name()}")
    unknown = sorted(set(manifest["revisions"]) - _known_revisions(settings.database_url))
    if unknown:
        raise BackupError(f"bản sao lưu từ phiên bản sipas mới hơn, hãy nâng cấp sipas trước: lược đồ {unknown}")
    if url.get_backend_name() == "sqlite":
        from sipas.storage import private_sqlite_file

        private_sqlite_file(str(_sqlite_path(url)))  # a new database file is its owner's alone, as the app's
    engine = create_engine(settings.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="sipas-restore-") as scratch:
            work = Path(scratch)
            _extract_checked(archive_path, manifest, work)
            secret = (work / SECRET_MEMBER).read_text().strip()
            if settings.secret_key and settings.secret_key != secret:
                raise BackupError("SIPAS_SECRET_KEY khác khóa bí mật trong bản sao lưu: các kiosk sẽ mất ghép nối và "
                                  "các số đã từ chối nhận tin sẽ bị quên; hãy đặt SIPAS_SECRET_KEY bằng giá trị trong "
                                  "bản sao lưu (thành phần secret_key) hoặc bỏ biến này")
            units = unit_count(engine)
            if units and not force:
                raise BackupError(f"cơ sở dữ liệu đã có dữ liệu ({units} đơn vị); thêm --force để ghi đè")
            if url.get_backend_name() == "sqlite":
                target_path = _sqlite_path(url)
                engine.dispose()
                source = sqlite3.connect(work / SQLITE_MEMBER)
                target = sqlite3.connect(target_path)
                try:
                    source.backup(target)
                finally:
                    target.close()
                    source.close()
            else:
                _restore_postgresql(engine, url, work)
            if not settings.secret_key:
                _write_secret(settings.instance_dir, secret)
        return manifest
    finally:
        engine.dispose()


def _restore_postgresql(engine: Engine, url: URL, work: Path) -> None:
    """Replace the database's tables with the dump's in one transaction: psql runs the drops of what the dump
    recreates (whatever migrations ran since) and the dump's own SQL (``_restore_script``) between one BEGIN and
    one COMMIT. A dump that cannot be read fails before anything is dropped; one that fails half-way is rolled
    back with the drops, and the database is as it was."""
    pg_restore, psql = _pg_binary(engine, "pg_restore"), _pg_binary(engine, "psql")
    args, env = _pg_command(url)
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        # the dossier events' trigger functions (sipas.dossier_events) outlive their tables: the dump creates
        # them again, and one left behind would stop the restore
        functions = list(connection.scalars(text(_OWN_FUNCTIONS)))
    drops = work / "drop.sql"
    drops.write_text("".join([*(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in tables),
                              *(f"DROP FUNCTION IF EXISTS {function} CASCADE;\n" for function in functions)]))
    script = _restore_script(pg_restore, work / PG_MEMBER, work, env)
    _run([psql, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", *args,
          "--file", str(drops), "--file", str(script)], env)


def _restore_script(pg_restore: str, dump: Path, work: Path, env: dict[str, str]) -> Path:
    """The dump as the SQL that recreates it (pg_restore reads the whole archive: a damaged one fails here)."""
    script = work / "restore.sql"
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--file", str(script), str(dump)], env)
    return script


def _write_secret(instance_dir: Path, secret: str) -> None:
    instance_dir.mkdir(parents=True, exist_ok=True)
    scratch = instance_dir / f".secret_key.restore.{os.getpid()}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    os.replace(scratch, instance_dir / "secret_key")


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest archives sipas wrote there (names sort by time); returns the deleted."""
    archives = sorted(p for p in directory.iterdir() if ARCHIVE_PATTERN.match(p.name)) if directory.exists() else []
    doomed = archives[:-keep] if keep else archives
    for path in doomed:
        path.unlink()
    return doomed
