"""`sipas backup` / `sipas restore` round-trip everything, the instance secret included.

Without the secret a restored database forgets opt-outs and unpairs kiosks (both are keyed hashes), so the
round trip is checked through the application: the kiosk's token still works, the opt-out still holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from aggregator.models_notices import Notice
from sipas import cli as cli_module
from sipas.app import create_app
from sipas.audit import audit
from sipas.backup import prune, row_counts
from sipas.dossiers import phone_hash
from sipas.models import AuditEvent, Response
from sipas.settings import Settings
from sipas.storage import get_database
from sms_gateway.optouts import is_opted_out, opt_out
from tests.factories import create_dossier, create_response, create_unit
from tests.kiosk.helpers import new_device

PHONE = "+84912345678"
PDF = b"%PDF-1.7 frozen notice \x00\xff bytes"


@pytest.fixture
def target_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same backend: the machine the backup is restored on."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'sipas.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = "sipas_restore_target"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.delenv("SIPAS_SECRET_KEY", raising=False)
    cli_module._add_extra_commands()
    return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=False)


def _seed(settings: Settings, catalogue) -> str:  # type: ignore[no-untyped-def]
    app = create_app(settings)  # no SIPAS_SECRET_KEY: the secret is generated into the instance folder
    secret = app.config["SECRET_KEY"]
    try:
        with get_database(app).session() as session:
            unit = create_unit(session, code="P-BACKUP")
            create_response(session, catalogue, unit, dossier=create_dossier(session, unit), comment="Rất tốt")
            create_response(session, catalogue, unit, dossier=create_dossier(session, unit))
            session.add(Notice(unit_id=unit.id, year=2026, number=1, period_start=date(2026, 7, 1),
                               period_end=date(2026, 9, 30), issue_date=date(2026, 10, 5), report={"n": 2},
                               content={"title": "Thông báo"}, docx=b"PK\x03\x04 docx", pdf=PDF,
                               docx_sha256=hashlib.sha256(b"PK\x03\x04 docx").hexdigest(),
                               pdf_sha256=hashlib.sha256(PDF).hexdigest(),
                               issued_by="lanh-dao", issued_at=datetime.now(UTC)))
            audit(session, "notice.issued", actor="lanh-dao", unit=unit, subject="1/2026")
            _device, _code, token = new_device(session, unit, secret=secret)
            opt_out(session, phone_hash(PHONE, secret), now=datetime.now(UTC), source="reply")
    finally:
        get_database(app).dispose()
    assert token
    return token


def test_restore_round_trips_ratings_notices_audit_kiosks_and_opt_outs(settings, catalogue, target_url, tmp_path,
                                                                      monkeypatch):
    source = replace(settings, secret_key="", instance_dir=tmp_path / "instance-a")
    token = _seed(source, catalogue)
    backed_up = _cli(monkeypatch, source, "backup", "--output", str(tmp_path / "backups"))
    assert backed_up.exit_code == 0, backed_up.output
    archive = Path(backed_up.output.strip().splitlines()[-1])
    assert archive.exists() and archive.stat().st_mode & 0o077 == 0
    engine = create_engine(source.database_url)
    counts = row_counts(engine)
    engine.dispose()

    refused = _cli(monkeypatch, source, "restore", str(archive))  # onto a database that has data
    assert refused.exit_code != 0 and "--force" in refused.output
    assert "Không khôi phục được: cơ sở dữ liệu đã có dữ liệu (1 đơn vị); thêm --force để ghi đè" in refused.output

    target = replace(settings, database_url=target_url, secret_key="", instance_dir=tmp_path / "instance-b")
    restored = _cli(monkeypatch, target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output

    engine = create_engine(target_url)
    assert row_counts(engine) == counts
    engine.dispose()
    app = create_app(target)
    try:
        database = get_database(app)
        with database.read_sessionmaker() as session:
            assert [r.comment for r in session.scalars(select(Response).order_by(Response.id))] == ["Rất tốt", None]
            assert session.scalar(select(Notice.pdf)) == PDF
            assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject == "1/2026")) == "notice.issued"
            assert is_opted_out(session, phone_hash(PHONE, app.config["SECRET_KEY"]))
        heartbeat = app.test_client().post("/kiosk/P-BACKUP/api/heartbeat", json={"queued": 0},
                                           headers={"X-Kiosk-Token": token})
        assert heartbeat.status_code == 200, heartbeat.get_data(as_text=True)
    finally:
        get_database(app).dispose()


def test_restore_refuses_a_damaged_archive(settings, catalogue, target_url, tmp_path, monkeypatch):
    source = replace(settings, secret_key="", instance_dir=tmp_path / "instance-a")
    _seed(source, catalogue)
    archive = Path(_cli(monkeypatch, source, "backup", "--output", str(tmp_path)).output.strip().splitlines()[-1])
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "secret_key":
                data = data[:-1] + (b"0" if data[-1:] != b"0" else b"1")
            copy.addfile(member, io.BytesIO(data))
    target = replace(settings, database_url=target_url, secret_key="", instance_dir=tmp_path / "instance-b")
    result = _cli(monkeypatch, target, "restore", str(damaged))
    assert result.exit_code != 0
    assert "Không khôi phục được: bản sao lưu bị hỏng, mã kiểm tra (SHA-256) không khớp: secret_key" in result.output
    assert not (tmp_path / "instance-b" / "secret_key").exists()


def test_prune_keeps_the_newest_archives(tmp_path):
    names = [f"sipas-backup-202612{day:02d}T021700Z.tar" for day in range(1, 6)]
    for name in [*names, "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    removed = prune(tmp_path, 2)
    assert [p.name for p in removed] == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", *names[3:]]


def test_the_scheduler_backs_up_daily_by_default_and_keeps_the_newest(settings, tmp_path):
    from sipas import backup_schedule
    from sipas.scheduler import build_scheduler
    from tests.scheduler_support import holding_the_lease

    configured = Settings.from_env({"SIPAS_BACKUP_DIR": str(tmp_path / "daily"), "SIPAS_BACKUP_KEEP": "2"},
                                   database_url=settings.database_url, secret_key="k", instance_dir=tmp_path)
    scheduler = build_scheduler(Settings.from_env({}, database_url=settings.database_url))
    (job,) = [j for j in scheduler.get_jobs() if j.id == backup_schedule.JOB_ID]
    assert str(job.trigger) == "cron[hour='2', minute='17']"
    old = [tmp_path / "daily" / f"sipas-backup-202601{day:02d}T021700Z.tar" for day in (1, 2)]
    old[0].parent.mkdir()
    for path in old:
        path.write_bytes(b"")
    backup_schedule.register(scheduler, configured)
    with holding_the_lease(configured):
        backup_schedule.daily_backup_job()
    kept = sorted(p.name for p in (tmp_path / "daily").iterdir())
    assert len(kept) == 2 and kept[0] == old[1].name and kept[1] > old[1].name


def test_a_backup_missed_while_the_scheduler_was_down_is_made_when_it_starts(settings):
    """The scheduler stopped before the night's backup and started an hour after it (within the job's 12 h grace,
    docs/reliability.md §18). Registering the job again at start scheduled it afresh from now and overwrote the
    stored run with tomorrow's: the missed day was never made. The stored run is now kept, so it is due at once."""
    from sipas.backup_schedule import JOB_ID
    from tests.scheduler_support import started_scheduler

    missed = datetime.now(settings.tz).replace(microsecond=0) - timedelta(hours=1)
    with started_scheduler(settings) as first:
        first.modify_job(JOB_ID, next_run_time=missed)  # what the store holds when it stopped before the run
    with started_scheduler(settings) as second:  # `sipas scheduler` started again
        assert second.get_job(JOB_ID).next_run_time == missed


def test_a_backup_still_to_come_follows_the_backup_hour_at_start(settings):
    """Only a missed run is kept: one still to come is computed afresh, so a changed SIPAS_BACKUP_HOUR applies."""
    from sipas.backup_schedule import JOB_ID
    from tests.scheduler_support import started_scheduler

    later = datetime.now(settings.tz).replace(microsecond=0) + timedelta(days=3)
    with started_scheduler(settings) as first:
        first.modify_job(JOB_ID, next_run_time=later)
    with started_scheduler(settings) as second:
        due = second.get_job(JOB_ID).next_run_time
    assert due < later and (due.hour, due.minute) == (2, 17)


def test_a_forced_restore_replaces_a_migrated_database_and_its_triggers_work(settings, catalogue, tmp_path,
                                                                             monkeypatch):
    """Restoring onto the live (migrated) database: on PostgreSQL the tables were dropped, then pg_restore stopped
    on the dossier events' trigger functions that outlive them ("already exists"): an empty database and a failed
    restore. Now the restore completes, the data is the archive's and the triggers keep the events."""
    from sipas.models_tally import DossierEventTally

    source = replace(settings, secret_key="", instance_dir=tmp_path / "instance-a")
    _seed(source, catalogue)
    backed_up = _cli(monkeypatch, source, "backup", "--output", str(tmp_path / "backups"))
    archive = Path(backed_up.output.strip().splitlines()[-1])
    engine = create_engine(source.database_url)
    counts = row_counts(engine)
    engine.dispose()
    app = create_app(source)
    try:
        with get_database(app).session() as session:  # a change made after the backup, which the restore undoes
            create_dossier(session, create_unit(session, code="P-LATER"))
    finally:
        get_database(app).dispose()
    restored = _cli(monkeypatch, source, "restore", "--force", str(archive))
    assert restored.exit_code == 0, restored.output
    engine = create_engine(source.database_url)
    assert row_counts(engine) == counts
    engine.dispose()
    app = create_app(source)
    try:
        with get_database(app).session() as session:
            before = session.scalar(select(text("count(*)")).select_from(DossierEventTally))
            create_dossier(session, create_unit(session, code="P-AFTER"))
            session.flush()
            assert session.scalar(select(text("count(*)")).select_from(DossierEventTally)) > before
    finally:
        get_database(app).dispose()


def _with_member(archive: Path, into: Path, name: str, data: bytes) -> Path:
    """A copy of ``archive`` whose member ``name`` holds ``data``, its manifest's checksum made to match (a dump
    the restore reads as sound, which fails when applied)."""
    with tarfile.open(archive) as original, tarfile.open(into, "w") as copy:
        manifest = json.loads(original.extractfile("manifest.json").read())  # type: ignore[union-attr]
        manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for member in original.getmembers():
            content = original.extractfile(member).read()  # type: ignore[union-attr]
            content = json.dumps(manifest).encode() if member.name == "manifest.json" else content
            content = data if member.name == name else content
            member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    return into


def test_a_forced_restore_that_fails_leaves_the_database_as_it_was(settings, catalogue, tmp_path, monkeypatch):
    """PostgreSQL: a forced restore dropped every table in a transaction of its own, committed, then ran pg_restore;
    a dump that failed half-way (cut short here; a full disk, a dump of another server) left an empty database
    behind a failed restore. The drop and the restore are now one transaction: a failure leaves it as it was,
    whether pg_restore cannot read the dump or the restore fails on its last statement."""
    import sipas.backup as backup

    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's restore is one backup-API copy: it is whole or not at all")
    source = replace(settings, secret_key="", instance_dir=tmp_path / "instance-a")
    _seed(source, catalogue)
    archive = Path(_cli(monkeypatch, source, "backup", "--output", str(tmp_path / "backups")).output.strip()
                   .splitlines()[-1])
    with tarfile.open(archive) as original:
        dump = original.extractfile(backup.PG_MEMBER).read()  # type: ignore[union-attr]
    app = create_app(source)
    try:
        with get_database(app).session() as session:  # the live data the failed restore must not take away
            create_dossier(session, create_unit(session, code="P-LIVE"))
    finally:
        get_database(app).dispose()
    engine = create_engine(source.database_url)
    live = row_counts(engine)
    cut = _with_member(archive, tmp_path / "cut.tar", backup.PG_MEMBER, dump[: len(dump) * 2 // 3])
    failed = _cli(monkeypatch, source, "restore", "--force", str(cut))
    assert failed.exit_code != 0
    assert row_counts(engine) == live, "a failed restore took the live data away"
    real = backup._restore_script

    def failing_at_the_end(*args, **kwargs):  # type: ignore[no-untyped-def]
        script = real(*args, **kwargs)
        with script.open("a") as handle:
            handle.write("\nSELECT 1 / 0;\n")  # the restore's last statement fails, after all the others ran
        return script

    monkeypatch.setattr(backup, "_restore_script", failing_at_the_end)
    failed = _cli(monkeypatch, source, "restore", "--force", str(archive))
    assert failed.exit_code != 0 and "division by zero" in failed.output
    assert row_counts(engine) == live, "a restore that failed on its last statement left its own half"
    engine.dispose()


def test_a_backup_made_by_root_is_given_to_the_owner_of_its_folder(settings, tmp_path, monkeypatch):
    """`sipas backup --output /var/backups/sipas` typed in root's shell (docs/vi/nang-cap.md before an upgrade, the
    hand backup of docs/install.md) wrote an archive root's alone (0600): the documented restore, `runuser -u sipas
    -- sipas restore …`, could not read it ("not a sipas backup archive: Permission denied"). Written by root, the
    archive now belongs to the folder's owner (the service user), still 0600."""
    from sipas import backup as backup_module

    folder = tmp_path / "backups"
    folder.mkdir()
    given: list[tuple[str, int, int]] = []
    monkeypatch.setattr(backup_module.os, "geteuid", lambda: 0)
    monkeypatch.setattr(backup_module.os, "chown", lambda path, uid, gid: given.append((str(path), uid, gid)))
    monkeypatch.setattr(backup_module.Path, "stat", _owned_by(folder, 4321, 4322, Path.stat))
    archive = backup_module.create_backup(settings, folder, now=datetime.now(UTC))
    assert [(Path(path).name, uid, gid) for path, uid, gid in given] == [(archive.name, 4321, 4322)]
    assert Path.stat(archive).st_mode & 0o777 == 0o600


def _owned_by(folder: Path, uid: int, gid: int, real):  # type: ignore[no-untyped-def]
    """Path.stat, with ``folder`` reported as owned by uid:gid (no root needed to test the hand-over)."""
    import os as os_module

    def stat(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(self, *args, **kwargs)
        if self == folder:
            fields = list(result)
            fields[4], fields[5] = uid, gid
            return os_module.stat_result(fields)
        return result

    return stat
