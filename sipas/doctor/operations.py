"""Running the deployment: a recent backup, one live scheduler, paired kiosks in contact."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sipas.doctor.base import Deployment, Finding
from sipas.doctor.database import needs_database
from sipas.format_vi import decimal_vi
from sipas.settings import Settings
from sipas.text import vietnamese_key

BACKUP_MAX_AGE = timedelta(hours=26)  # a daily backup, with slack for its own duration


def check_backup(deployment: Deployment) -> Finding:
    """The newest archive where ``sipas backup`` and the daily job write is less than a day old."""
    from sipas.backup import BackupSettings

    backups = BackupSettings.from_settings(deployment.settings)
    if not backups.enabled and not deployment.settings.env.get("SIPAS_BACKUP_DIR"):
        return Finding(False, "Sao lưu hằng ngày đang tắt (SIPAS_BACKUP_ENABLED=false) và chưa chọn thư mục sao lưu.",
                       "Bật SIPAS_BACKUP_ENABLED hoặc đặt SIPAS_BACKUP_DIR tới nơi một công cụ khác sao lưu hằng "
                       "ngày (docs/install.md, mục Backups).")
    if not deployment.settings.is_sqlite and (missing := _missing_pg_dump(deployment)) is not None:
        return missing
    directory = backups.directory
    files = [p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")] \
        if directory.is_dir() else []
    if not files:
        return Finding(False, f"Chưa có bản sao lưu nào trong {directory}.",
                       "Chạy sao lưu ngay (sipas backup) và kiểm tra dịch vụ lập lịch, nơi chạy sao lưu hằng ngày "
                       "(systemctl status sipas-scheduler).")
    newest = max(files, key=lambda p: p.stat().st_mtime)
    taken = datetime.fromtimestamp(newest.stat().st_mtime, UTC)
    age = deployment.now - taken
    hours = age.total_seconds() / 3600
    if age > BACKUP_MAX_AGE:
        return Finding(False, f"Bản sao lưu mới nhất ({newest.name}) đã cũ {hours:.0f} giờ.",
                       "Kiểm tra dịch vụ lập lịch, nơi chạy sao lưu hằng ngày (systemctl status sipas-scheduler, "
                       "journalctl -u sipas-scheduler), và chạy sao lưu ngay.")
    return Finding(True, f"Bản sao lưu mới nhất: {newest.name}, cách đây {decimal_vi(hours, 1)} giờ.")


def _missing_pg_dump(deployment: Deployment) -> Finding | None:
    """On PostgreSQL the backup runs the server's major version of pg_dump: without it every nightly backup fails."""
    from sipas.backup import BackupError, _pg_binary, pg_major

    if deployment.database_ok is False:
        return None  # the database check says why; the archives are looked at below
    engine = deployment.database.engine
    try:
        _pg_binary(engine, "pg_dump")
    except BackupError:
        major = pg_major(engine)
        return Finding(False, f"Không có pg_dump cho PostgreSQL {major} trên máy này: sao lưu (sipas backup, sao lưu "
                              "hằng ngày của tiến trình lập lịch) không chạy được.",
                       f"Cài công cụ của PostgreSQL {major}: apt-get install -y postgresql-client-{major}, trên máy "
                       "chạy tiến trình lập lịch.")
    return None


def scheduler_processes(processes: Sequence[Sequence[str]] | None = None) -> list[Sequence[str]]:
    """Command lines on this machine that run ``sipas scheduler`` (systemd or ``sipas serve``)."""
    if processes is None:
        processes = _proc_cmdlines()
    found = []
    for argv in processes:
        args = [Path(arg).name for arg in argv]
        runs_sipas = "sipas" in args or "sipas.cli" in args
        if runs_sipas and args and args[-1] == "scheduler":
            found.append(argv)
    return found


def _proc_cmdlines() -> list[list[str]]:
    cmdlines = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if raw:
            cmdlines.append([part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")])
    return cmdlines


def check_scheduler(deployment: Deployment) -> Finding:
    """A fresh heartbeat on the scheduler lock, and no more than one scheduler process on this machine."""
    from sipas.models import SchedulerLock
    from sipas.scheduler import LOCK_NAME

    if (blocked := needs_database(deployment)) is not None:
        return blocked
    with deployment.database.read_sessionmaker() as session:
        lock = session.scalar(select(SchedulerLock).where(SchedulerLock.name == LOCK_NAME))
    local = scheduler_processes(deployment.processes)
    if len(local) > 1:
        return Finding(False, f"Có {len(local)} tiến trình lập lịch trên máy này (chỉ được một).",
                       "Dừng bớt: chỉ bật sipas-scheduler (systemctl) hoặc sipas serve, không chạy cả hai.")
    if lock is None or not lock.holder:
        return Finding(False, "Tiến trình lập lịch không chạy: SMS mời đánh giá, nhắc lại và hết hạn sẽ không được "
                              "xử lý.", "Chạy: systemctl enable --now sipas-scheduler")
    silent = deployment.now - _aware(lock.heartbeat_at)
    if silent > heartbeat_limit(deployment.settings) or deployment.now >= _aware(lock.expires_at):
        return Finding(False, f"Tiến trình lập lịch {lock.holder} đã ngừng báo hiệu "
                              f"{int(silent.total_seconds() // 60)} phút.",
                       "Xem nhật ký: journalctl -u sipas-scheduler; khởi động lại: systemctl restart sipas-scheduler")
    host, _, pid = lock.holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return Finding(False, f"Tiến trình lập lịch {lock.holder} giữ khóa nhưng không còn chạy.",
                       "Khởi động lại: systemctl restart sipas-scheduler")
    return Finding(True, f"Một tiến trình lập lịch đang chạy ({lock.holder}).")


HEARTBEAT_SLACK = timedelta(seconds=60)


def heartbeat_limit(settings: Settings) -> timedelta:
    """How old the scheduler's heartbeat may be: one beat (a third of ``SIPAS_SCHEDULER_LEASE_SECONDS``) and a
    minute's slack for a slow database, 90 s with the default lease. The lease itself may be much longer (600 s):
    its expiry alone let a scheduler silent for minutes pass."""
    from sipas.scheduler import beat_seconds, lease_seconds

    return timedelta(seconds=beat_seconds(lease_seconds(settings))) + HEARTBEAT_SLACK


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive UTC timestamps."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_kiosk_clocks(deployment: Deployment) -> Finding:
    """Paired kiosks whose clock is more than two minutes off (measured at each heartbeat): the time
    they stamp on queued ratings, and so the 15-minute rules of form changes, would be wrong."""
    from sipas.plugins import channel_modules

    if (blocked := needs_database(deployment)) is not None:
        return blocked
    if not any(module.__name__.startswith("kiosk") for module in channel_modules()):
        return Finding(True, "Kênh kiosk không được bật.")
    from kiosk.models import MAX_CLOCK_SKEW_SECONDS, KioskDevice
    from sipas.models import Unit

    with deployment.database.read_sessionmaker() as session:
        rows = session.execute(
            select(Unit.code, KioskDevice.name, KioskDevice.public_id, KioskDevice.clock_offset_seconds)
            .join(Unit, Unit.id == KioskDevice.unit_id)
            .where(KioskDevice.paired_at.is_not(None), KioskDevice.revoked_at.is_(None))
            ).all()
    rows.sort(key=lambda row: (row.code, vietnamese_key(row.name or ""), row.public_id))
    if not rows:
        return Finding(True, "Chưa có kiosk nào được ghép nối.")
    off = [(f"{code}/{name or public_id}", offset) for code, name, public_id, offset in rows
           if offset is not None and abs(offset) > MAX_CLOCK_SKEW_SECONDS]
    unknown = [f"{code}/{name or public_id}" for code, name, public_id, offset in rows if offset is None]
    if off:
        listed = ", ".join(f"{label} {'nhanh' if offset > 0 else 'chậm'} {_duration(abs(offset))}"
                           for label, offset in off)
        return Finding(False, f"Đồng hồ kiosk lệch quá {MAX_CLOCK_SKEW_SECONDS // 60} phút: {listed}.",
                       "Bật đồng bộ giờ trên máy kiosk (timedatectl set-ntp true) hoặc chỉnh giờ cho đúng.")
    note = f" ({len(unknown)} kiosk chưa báo giờ: {', '.join(unknown)}; tải lại trang kiosk)" if unknown else ""
    return Finding(True, f"Đồng hồ của {len(rows) - len(unknown)} kiosk đúng giờ{note}.")


def _duration(seconds: int) -> str:
    if seconds >= 3600:
        return f"{decimal_vi(seconds / 3600, 1)} giờ"
    return f"{seconds // 60} phút {seconds % 60} giây"
