"""``sipas doctor``: a healthy deployment passes every check; each check, broken, says what is wrong in
Vietnamese (and how to fix it), and the command exits non-zero."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from sipas import cli as cli_module
from sipas.doctor import CHECKS, Deployment, run_checks
from sipas.doctor import operations as doctor_operations
from sipas.doctor.database import check_database
from sipas.doctor.operations import check_backup, check_kiosk_clocks, check_scheduler
from sipas.doctor.providers import ZALO_REQUIRED, check_sms, check_zalo
from sipas.doctor.settings_checks import check_public_url, check_secret_key
from sipas.doctor.system import check_disk, check_notice_tools, check_timezone
from sipas.format_vi import decimal_vi
from sipas.models import SchedulerLock
from sipas.settings import Settings
from sipas.storage import Database
from tests.factories import SECRET as FACTORY_SECRET
from tests.factories import create_unit
from tests.kiosk.helpers import new_device
from tests.sms_gateway.canned import CannedHttpClient
from tests.sms_gateway.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.sms_gateway.prism import prism_url  # noqa: F401  (session fixture)
from tests.sms_gateway.zalo_support import grant, zalo_env
from tests.sms_gateway.zns_mock import zns  # noqa: F401  (fixture)

SECRET = "k" * 64
HEALTHY = {"SIPAS_SECRET_KEY": SECRET, "SIPAS_PUBLIC_BASE_URL": "https://danhgia.phuhoi.example.vn",
           "SIPAS_TIMEZONE": "Asia/Ho_Chi_Minh", "SIPAS_SMS_PROVIDER": "console"}
TWILIO = {"SIPAS_SMS_PROVIDER": "twilio", "SIPAS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
          "SIPAS_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SIPAS_TWILIO_FROM": "+15005550006"}
NOW = datetime.now(UTC)


def healthy_env(database_url: str, tmp_path: Path, **env: str) -> dict[str, str]:
    backups = tmp_path / "backups"
    backups.mkdir(exist_ok=True)
    (backups / "sipas-today.db").write_bytes(b"backup")
    return HEALTHY | {"SIPAS_DATABASE_URL": database_url, "SIPAS_INSTANCE_DIR": str(tmp_path / "instance"),
                      "SIPAS_BACKUP_DIR": str(backups)} | env


def deployment_for(database_url: str, tmp_path: Path, **env: str) -> Deployment:
    settings = Settings.from_env(healthy_env(database_url, tmp_path, **env))
    return Deployment(settings, now=NOW, processes=[])


@pytest.fixture
def deployment(settings, tmp_path):
    """A deployment in good health on the test database: a live scheduler and a paired kiosk on time."""
    dep = deployment_for(settings.database_url, tmp_path)
    database = Database(dep.settings)
    with database.session() as session:
        # the CLI reads the clock, not NOW (taken when the suite was collected, maybe half an hour earlier): a
        # heartbeat 20 s before the fixture ran, and a lease an hour ahead
        session.add(SchedulerLock(name="scheduler", holder=f"{socket.gethostname()}:{os.getpid()}",
                                  heartbeat_at=datetime.now(UTC) - timedelta(seconds=20), token=1,
                                  expires_at=datetime.now(UTC) + timedelta(hours=1)))
        device, _code, _token = new_device(session, create_unit(session, code="P-PHUHOI"))
        device.clock_offset_seconds = 3
    database.dispose()
    yield dep
    dep.close()


def finding(check, dep: Deployment):  # type: ignore[no-untyped-def]
    """A check run after the database check, as the doctor runs it."""
    check_database(dep)
    return check(dep)


def test_a_healthy_deployment_passes_every_check(deployment):
    outcomes = run_checks(deployment, CHECKS)
    assert [(o.name, o.finding.message_vi) for o in outcomes if not o.finding.ok] == []
    assert [o.name for o in outcomes] == ["database", "secret_key", "public_url", "config_files", "sms", "zalo",
                                          "notice_tools", "timezone", "disk", "backup", "scheduler", "kiosk_clocks"]


def test_the_command_exits_zero_only_when_all_is_well(deployment, tmp_path, monkeypatch):
    monkeypatch.setattr(doctor_operations, "_proc_cmdlines", list)  # other test runs' schedulers on this machine
    env_file = tmp_path / "sipas.env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in deployment.settings.env.items()) + "\n")
    for name in list(os.environ):
        if name.startswith("SIPAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPAS_ENV_FILE", str(env_file))
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("Mọi mục đều ổn.") and "Cơ sở dữ liệu:" in result.stderr
    as_json = CliRunner().invoke(cli_module.cli, ["doctor", "--json"])
    assert as_json.exit_code == 0 and as_json.stderr == ""
    assert json.loads(as_json.stdout)["ok"] is True
    env_file.write_text(env_file.read_text() + "SIPAS_PUBLIC_BASE_URL=http://danhgia.phuhoi.example.vn\n")
    broken = CliRunner().invoke(cli_module.cli, ["doctor", "--json"])
    assert broken.exit_code == 1
    failed = [c for c in json.loads(broken.stdout)["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["public_url"] and "không dùng https" in failed[0]["message"]
    text = CliRunner().invoke(cli_module.cli, ["doctor"])
    assert text.exit_code == 1 and "LỖI  Địa chỉ công khai" in text.stdout and "Có 1 mục cần sửa." in text.stdout


def test_database_unreachable_missing_or_not_migrated(tmp_path):
    down = deployment_for("postgresql+psycopg://sipas:bi-mat@127.0.0.1:1/sipas", tmp_path)
    result = check_database(down)
    assert not result.ok and result.message_vi.startswith("Không kết nối được cơ sở dữ liệu "
                                                          "postgresql+psycopg://sipas:***@127.0.0.1:1/sipas")
    assert "bi-mat" not in result.message_vi
    assert "Chưa kiểm tra được vì cơ sở dữ liệu chưa sẵn sàng" in check_scheduler(down).message_vi
    missing = deployment_for(f"sqlite:///{tmp_path / 'none.db'}", tmp_path)
    assert check_database(missing).message_vi == f"Chưa có tệp cơ sở dữ liệu {tmp_path / 'none.db'}."
    assert not (tmp_path / "none.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    stale = check_database(deployment_for(f"sqlite:///{empty}", tmp_path))
    assert not stale.ok and "chưa được cập nhật" in stale.message_vi and "sipas db upgrade" in stale.fix_vi


def test_secret_key_unset_short_or_changed(tmp_path):
    unset = check_secret_key(deployment_for("sqlite://", tmp_path, SIPAS_SECRET_KEY=""))
    assert not unset.ok and unset.message_vi.startswith("Chưa đặt SIPAS_SECRET_KEY")
    short = check_secret_key(deployment_for("sqlite://", tmp_path, SIPAS_SECRET_KEY="ngan"))
    assert not short.ok and "quá ngắn (4 ký tự" in short.message_vi
    assert check_secret_key(deployment_for("sqlite://", tmp_path)).ok  # first check: remembered
    assert check_secret_key(deployment_for("sqlite://", tmp_path)).ok
    changed = check_secret_key(deployment_for("sqlite://", tmp_path, SIPAS_SECRET_KEY="z" * 64))
    assert not changed.ok and changed.message_vi.startswith("SIPAS_SECRET_KEY đã thay đổi")
    assert SECRET not in (tmp_path / "instance" / "secret_key.fingerprint").read_text()


def test_public_url_unset_or_not_https(tmp_path):
    unset = check_public_url(deployment_for("sqlite://", tmp_path, SIPAS_PUBLIC_BASE_URL=""))
    assert not unset.ok and unset.message_vi.startswith("Chưa đặt SIPAS_PUBLIC_BASE_URL")
    plain = check_public_url(deployment_for("sqlite://", tmp_path, SIPAS_PUBLIC_BASE_URL="http://danhgia.example.vn"))
    assert not plain.ok and "không dùng https" in plain.message_vi
    local = check_public_url(deployment_for("sqlite://", tmp_path, SIPAS_PUBLIC_BASE_URL="https://localhost"))
    assert not local.ok and "trỏ về chính máy này" in local.message_vi


def test_twilio_credentials_missing_refused_or_unreachable(tmp_path, prism_url):  # noqa: F811
    missing = check_sms(deployment_for("sqlite://", tmp_path, **TWILIO | {"SIPAS_TWILIO_AUTH_TOKEN": ""}))
    assert not missing.ok and missing.message_vi.startswith("Cấu hình SMS chưa đủ")
    accepted = check_sms(deployment_for("sqlite://", tmp_path, **TWILIO, SIPAS_TWILIO_API_BASE=prism_url))
    assert accepted.ok, accepted.message_vi
    refused_dep = deployment_for("sqlite://", tmp_path, **TWILIO)
    canned = CannedHttpClient((401, {"code": 20003, "message": "Authenticate", "status": 401}))
    refused_dep.twilio_http_client = canned
    refused = check_sms(refused_dep)
    assert not refused.ok
    assert refused.message_vi == "Twilio từ chối SIPAS_TWILIO_ACCOUNT_SID / SIPAS_TWILIO_AUTH_TOKEN (HTTP 401)."
    request = canned.requests[0]
    assert request["method"] == "GET" and request["uri"].endswith(f"/Accounts/{ACCOUNT_SID}.json")
    unreachable = check_sms(deployment_for("sqlite://", tmp_path, **TWILIO, SIPAS_TWILIO_API_BASE="http://127.0.0.1:1"))
    assert not unreachable.ok and unreachable.message_vi.startswith("Không gọi được Twilio tại http://127.0.0.1:1")


HTTP_SMS = {"SIPAS_SMS_PROVIDER": "http", "SIPAS_SMS_HTTP_API_KEY": "khoa-dung", "SIPAS_SMS_HTTP_SECRET_KEY": "bi-mat",
            "SIPAS_SMS_HTTP_BRANDNAME": "UBND"}


@pytest.fixture
def balance_mock():
    """An eSMS-style ``GetBalance_json`` on 127.0.0.1: code 100 for the right keys, 101 otherwise."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, **body})
            ok = (body.get("ApiKey"), body.get("SecretKey")) == ("khoa-dung", "bi-mat")
            answer = {"Balance": 36693, "CodeResponse": "100", "UserID": 9999} if ok else {
                "Balance": 0, "CodeResponse": "101", "ErrorMessage": "Authorize Failed"}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/MainService.svc/json/GetBalance_json", seen
    server.shutdown()
    server.server_close()


def test_brandname_sms_credentials_accepted_refused_or_unreachable(tmp_path, balance_mock):
    url, seen = balance_mock
    accepted = check_sms(deployment_for("sqlite://", tmp_path, **HTTP_SMS, SIPAS_SMS_HTTP_BALANCE_URL=url))
    assert accepted.ok, accepted.message_vi
    assert accepted.message_vi == ("Nhà cung cấp brandname nhận SIPAS_SMS_HTTP_API_KEY / SIPAS_SMS_HTTP_SECRET_KEY "
                                   "(đọc được số dư: 36693).")
    assert seen == [{"path": "/MainService.svc/json/GetBalance_json", "ApiKey": "khoa-dung", "SecretKey": "bi-mat"}]
    refused = check_sms(deployment_for("sqlite://", tmp_path, **HTTP_SMS | {"SIPAS_SMS_HTTP_API_KEY": "khoa-sai"},
                                       SIPAS_SMS_HTTP_BALANCE_URL=url))
    assert not refused.ok and refused.message_vi == (
        "Nhà cung cấp brandname từ chối SIPAS_SMS_HTTP_API_KEY / SIPAS_SMS_HTTP_SECRET_KEY "
        "(mã 101: sai ApiKey hoặc SecretKey).")
    assert refused.fix_vi.startswith("Chép lại ApiKey và SecretKey")
    unreachable = check_sms(deployment_for("sqlite://", tmp_path, **HTTP_SMS,
                                           SIPAS_SMS_HTTP_BALANCE_URL="http://127.0.0.1:1/GetBalance_json"))
    assert not unreachable.ok
    assert unreachable.message_vi.startswith("Không gọi được nhà cung cấp brandname tại http://127.0.0.1:1/")
    missing = check_sms(deployment_for("sqlite://", tmp_path, **HTTP_SMS | {"SIPAS_SMS_HTTP_SECRET_KEY": ""}))
    assert not missing.ok and missing.message_vi.startswith("Cấu hình SMS chưa đủ")


def test_zalo_settings_present_must_be_complete(tmp_path):
    assert check_zalo(deployment_for("sqlite://", tmp_path)).ok
    partial = check_zalo(deployment_for("sqlite://", tmp_path, SIPAS_ZALO_APP_ID="123"))
    assert not partial.ok and partial.message_vi.startswith("Cấu hình Zalo chưa đủ: thiếu SIPAS_ZALO_APP_SECRET")
    complete = check_zalo(deployment_for("sqlite://", tmp_path, **dict.fromkeys(ZALO_REQUIRED, "x")))
    assert not complete.ok and complete.message_vi == "Không đọc được token OA trong cơ sở dữ liệu."  # no tables


def test_zalo_check_reads_the_quota_with_the_stored_token(settings, tmp_path, zns):  # noqa: F811
    """The cheapest read call (GET /message/quota) against the ZNS mock: no grant, a good token, a refused one."""
    dep = deployment_for(settings.database_url, tmp_path, **zalo_env(zns))
    database = Database(dep.settings)
    try:
        missing = check_zalo(dep)
        assert not missing.ok and missing.message_vi.startswith("Chưa cấp quyền OA") and "set-token" in missing.fix_vi
        zns.now = NOW
        grant(database, zns, NOW)
        good = check_zalo(dep)
        assert good.ok and good.message_vi == "Zalo nhận access token (hạn mức hôm nay còn 500/500 tin)."
        zns.expire_access_tokens()
        refused = check_zalo(dep)
        assert not refused.ok and "-124" in refused.message_vi
        unreachable = check_zalo(replace(dep, settings=Settings.from_env(
            healthy_env(settings.database_url, tmp_path, **(zalo_env(zns) | {"SIPAS_ZALO_API_BASE": "http://127.0.0.1:1"})))))
        assert not unreachable.ok and unreachable.message_vi.startswith("Không gọi được Zalo tại http://127.0.0.1:1")
    finally:
        database.dispose()
        dep.close()


def test_notice_fonts_and_libreoffice_missing(tmp_path, monkeypatch):
    from aggregator.notices import docx_parts

    assert check_notice_tools(deployment_for("sqlite://", tmp_path)).ok
    no_soffice = check_notice_tools(deployment_for("sqlite://", tmp_path, SIPAS_SOFFICE="/khong/co/soffice"))
    assert not no_soffice.ok and "không tìm thấy LibreOffice (“/khong/co/soffice”)" in no_soffice.message_vi
    monkeypatch.setattr(docx_parts, "FONT_DIRS", (tmp_path,))
    no_fonts = check_notice_tools(deployment_for("sqlite://", tmp_path))
    assert not no_fonts.ok and "thiếu phông Liberation Serif" in no_fonts.message_vi
    assert "fonts-liberation2" in no_fonts.fix_vi


def test_time_zone_unknown_or_not_vietnam(tmp_path):
    dep = deployment_for("sqlite://", tmp_path)
    tokyo = check_timezone(replace(dep, settings=replace(dep.settings, timezone="Asia/Tokyo")))
    assert not tokyo.ok and "“Asia/Tokyo” (UTC+9) khác giờ Việt Nam" in tokyo.message_vi
    unknown = check_timezone(replace(dep, settings=replace(dep.settings, timezone="Asia/Hanoi")))
    assert not unknown.ok and "“Asia/Hanoi” không tồn tại" in unknown.message_vi


def test_disk_nearly_full(tmp_path):
    dep = deployment_for("sqlite://", tmp_path)
    assert check_disk(dep).ok
    full = check_disk(dep, min_free_bytes=10**18)
    assert not full.ok and "sắp đầy" in full.message_vi
    # figures written the Vietnamese way: "còn 71,8 GB (35%)", never "71.8 GB"
    for message in (check_disk(dep).message_vi, full.message_vi):
        assert re.search(r"còn \d{1,3}(\.\d{3})*,\d GB", message), message
    assert re.search(r"GB \(\d+%\)", full.message_vi), full.message_vi


def test_figures_are_written_the_vietnamese_way():
    assert decimal_vi(71.84, 1) == "71,8" and decimal_vi(1234.56, 1) == "1.234,6" and decimal_vi(35.4, 0) == "35"


def test_backup_missing_empty_or_old(tmp_path):
    assert check_backup(deployment_for("sqlite://", tmp_path)).ok
    off = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR="", SIPAS_BACKUP_ENABLED="false"))
    assert not off.ok and off.message_vi.startswith("Sao lưu hằng ngày đang tắt")
    default_dir = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR=""))
    assert not default_dir.ok and default_dir.message_vi.startswith("Chưa có bản sao lưu nào")
    assert str(tmp_path) in default_dir.message_vi  # the scheduler's default: <instance dir>/backups
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    empty = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR=str(empty_dir)))
    assert not empty.ok and empty.message_vi.startswith("Chưa có bản sao lưu nào")
    old = empty_dir / "sipas-2026-11-30.db"
    old.write_bytes(b"x")
    three_days = (NOW - timedelta(days=3)).timestamp()
    os.utime(old, (three_days, three_days))
    stale = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR=str(empty_dir)))
    assert not stale.ok and stale.message_vi == "Bản sao lưu mới nhất (sipas-2026-11-30.db) đã cũ 72 giờ."


def test_scheduler_missing_silent_dead_or_duplicated(deployment):
    assert finding(check_scheduler, deployment).ok
    two = replace(deployment, processes=[["/opt/sipas/.venv/bin/python", "/opt/sipas/.venv/bin/sipas", "scheduler"],
                                         [sys.executable, "-m", "sipas.cli", "scheduler"],
                                         [sys.executable, "-m", "sipas.cli", "serve"]])
    duplicated = finding(check_scheduler, two)
    assert not duplicated.ok and duplicated.message_vi == "Có 2 tiến trình lập lịch trên máy này (chỉ được một)."
    database = deployment.database
    with database.session() as session:
        lock = session.get(SchedulerLock, "scheduler")
        lock.heartbeat_at, lock.expires_at = NOW - timedelta(minutes=10), NOW - timedelta(minutes=8, seconds=30)
    silent = finding(check_scheduler, deployment)
    assert not silent.ok and "đã ngừng báo hiệu 10 phút" in silent.message_vi
    dead_pid = _dead_pid()
    with database.session() as session:
        lock = session.get(SchedulerLock, "scheduler")
        lock.heartbeat_at, lock.holder = NOW, f"{socket.gethostname()}:{dead_pid}"
        lock.expires_at = NOW + timedelta(seconds=90)
    dead = finding(check_scheduler, deployment)
    assert not dead.ok and "giữ khóa nhưng không còn chạy" in dead.message_vi
    with database.session() as session:
        session.delete(session.get(SchedulerLock, "scheduler"))
    gone = finding(check_scheduler, deployment)
    assert not gone.ok and gone.message_vi.startswith("Tiến trình lập lịch không chạy")


@pytest.mark.parametrize(("lease", "silent_seconds", "ok"), [(90, 85, True), (90, 95, False), (600, 255, True),
                                                            (600, 300, False)])
def test_the_scheduler_check_fails_when_the_heartbeat_is_late_whatever_the_lease(settings, tmp_path, lease,
                                                                                 silent_seconds, ok):
    """docs/doctor.md said the check fails when "its heartbeat is older than 90 s", but it failed only when the lease
    expired: with SIPAS_SCHEDULER_LEASE_SECONDS=600 a scheduler silent for 5 minutes passed. The scheduler beats
    every third of its lease: the check now fails when the heartbeat is older than one beat and 60 s (90 s with
    the default lease of 90 s, 260 s with 600 s), the lease unexpired."""
    dep = deployment_for(settings.database_url, tmp_path, SIPAS_SCHEDULER_LEASE_SECONDS=str(lease))
    heartbeat = NOW - timedelta(seconds=silent_seconds)
    with dep.database.session() as session:  # what the scheduler wrote at its last heartbeat
        session.add(SchedulerLock(name="scheduler", holder=f"{socket.gethostname()}:{os.getpid()}",
                                  heartbeat_at=heartbeat, token=1, expires_at=heartbeat + timedelta(seconds=lease)))
    try:
        result = finding(check_scheduler, dep)
    finally:
        dep.close()
    assert result.ok is ok, result.message_vi
    if not ok:
        assert result.message_vi.endswith(f"đã ngừng báo hiệu {silent_seconds // 60} phút.")


def _dead_pid() -> int:
    import subprocess

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_kiosk_clock_far_off(deployment):
    from kiosk.models import KioskDevice

    assert finding(check_kiosk_clocks, deployment).ok
    with deployment.database.session() as session:
        device = session.query(KioskDevice).one()
        device.clock_offset_seconds = -600
    off = finding(check_kiosk_clocks, deployment)
    assert not off.ok and off.message_vi == "Đồng hồ kiosk lệch quá 2 phút: P-PHUHOI/Quầy 1 chậm 10 phút 0 giây."
    assert "timedatectl set-ntp true" in off.fix_vi


def test_kiosk_heartbeat_reports_its_clock(client, session):
    from kiosk.models import KioskDevice
    from kiosk.services import clock_offset

    unit = create_unit(session)
    device, _code, token = new_device(session, unit, secret=FACTORY_SECRET)
    session.commit()
    ahead = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    beat = client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 0, "client_time": ahead},
                       headers={"X-Kiosk-Token": token})
    assert beat.status_code == 200
    session.expire_all()
    assert 295 <= session.get(KioskDevice, device.id).clock_offset_seconds <= 300
    assert clock_offset("2026-12-04T10:00:00", NOW) is None  # no offset: cannot be compared
    assert clock_offset("demain", NOW) is None and clock_offset(12, NOW) is None
    assert clock_offset("2026-12-04T17:00:00+07:00", datetime(2026, 12, 4, 9, 59, tzinfo=UTC)) == 60


def test_a_broken_settings_file_is_reported_not_a_crash(tmp_path, monkeypatch):
    env_file = tmp_path / "sipas.env"
    env_file.write_text("SIPAS_TIMEZONE=Asia/Hanoi\n")
    monkeypatch.setenv("SIPAS_ENV_FILE", str(env_file))
    monkeypatch.delenv("SIPAS_TIMEZONE", raising=False)
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["doctor", "--json"])
    assert result.exit_code == 1
    checks = json.loads(result.stdout)["checks"]
    assert [c["check"] for c in checks] == ["settings"]
    assert checks[0]["message"].startswith("Cấu hình sai: SIPAS_TIMEZONE") and not checks[0]["ok"]


@pytest.mark.parametrize(("name", "value"), [("SIPAS_KIOSK_BURST_COUNT", "1"), ("SIPAS_QR_LINK_DAYS", "0"),
                                             ("SIPAS_SCHEDULER_LEASE_SECONDS", "2"), ("SIPAS_BACKUP_HOUR", "24"),
                                             ("SIPAS_SMS_WINDOW_START", "7h")])
def test_a_setting_the_services_refuse_at_start_fails_the_doctor(deployment, tmp_path, monkeypatch, name, value):
    """The web app and the scheduler refuse these at start (sipas.settings_check): the doctor said "Mọi mục đều ổn."
    (exit 0) with a wrong SIPAS_KIOSK_*, SIPAS_QR_LINK_DAYS or SIPAS_SCHEDULER_LEASE_SECONDS, and "Không kiểm tra
    được: SettingsError: …" (run with -v) for SIPAS_BACKUP_HOUR. It is the settings check, as a core setting is."""
    monkeypatch.setattr(doctor_operations, "_proc_cmdlines", list)
    env_file = tmp_path / "sipas.env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in (deployment.settings.env | {name: value}).items()) + "\n")
    for variable in list(os.environ):
        if variable.startswith("SIPAS_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("SIPAS_ENV_FILE", str(env_file))
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    checks = json.loads(result.stdout)["checks"]
    assert [(c["check"], c["ok"]) for c in checks] == [("settings", False)], checks
    assert checks[0]["message"].startswith(f"Cấu hình sai: {name} = {value!r} — "), checks[0]["message"]
    assert "sipas.env" in checks[0]["fix"]


def test_a_check_that_meets_a_wrong_setting_names_it(tmp_path):
    """Not "Không kiểm tra được: SettingsError: …" with "run with sipas -v doctor" as the fix."""
    outcome, = run_checks(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_HOUR="24"),
                          [("backup", "Sao lưu", check_backup)])
    assert outcome.finding.message_vi == "Cấu hình sai: SIPAS_BACKUP_HOUR = '24' — cần một số nguyên từ 0 đến 23"
    assert "-v" not in (outcome.finding.fix_vi or "") and "tệp cấu hình" in (outcome.finding.fix_vi or "")


def test_a_missing_or_old_backup_points_to_what_runs_backups(tmp_path):
    """The backups are a job of sipas-scheduler; the hint sent the operator to a systemd timer that does not exist
    ("systemctl list-timers"). Every systemd unit a hint names is one deploy/systemd installs."""
    import re
    from pathlib import Path

    units = {p.name.removesuffix(".service") for p in (Path(__file__).parents[1] / "deploy" / "systemd").glob("*")}
    empty_dir = tmp_path / "none"
    empty_dir.mkdir()
    empty = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR=str(empty_dir)))
    old = empty_dir / "sipas-2026-11-30.db"
    old.write_bytes(b"x")
    os.utime(old, ((NOW - timedelta(days=3)).timestamp(),) * 2)
    stale = check_backup(deployment_for("sqlite://", tmp_path, SIPAS_BACKUP_DIR=str(empty_dir)))
    for finding_ in (empty, stale):
        hint = finding_.fix_vi or ""
        assert "list-timers" not in hint and "sipas-scheduler" in hint, hint
        assert set(re.findall(r"(?:status|-u) (sipas-[\w-]+)", hint)) <= units, hint


def test_a_postgresql_deployment_without_pg_dump_fails_the_backup_check(settings, tmp_path, monkeypatch):
    """`make system-deps` installs no PostgreSQL client, and docs/install.md's PostgreSQL section named none: on a
    district's machine the nightly backup failed ("pg_dump for PostgreSQL 15 not found") while the doctor, which
    only looks at the archives' age, passed until a day later and then said only that the newest was old."""
    from sipas import backup

    monkeypatch.setattr(backup, "PG_BIN_ROOT", tmp_path / "no-postgresql")
    monkeypatch.setattr(backup.shutil, "which", lambda name, *args, **kwargs: None)
    dep = deployment_for(settings.database_url, tmp_path)
    try:
        finding = check_backup(dep)
    finally:
        dep.close()
    if settings.is_sqlite:
        assert finding.ok, finding
        return
    assert not finding.ok and "pg_dump" in finding.message_vi, finding
    assert re.search(r"apt-get install -y postgresql-client-\d+", finding.fix_vi), finding


def _broken_config(tmp_path: Path, broken: str) -> Path:
    """A copy of the shipped configuration folder with one file broken."""
    import shutil

    from sipas.settings import DEFAULT_CONFIG_DIR

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    if broken == "criteria":
        path = next((config / "instruments").glob("hue12*.toml"))
        path.write_text(path.read_text(encoding="utf-8").replace("tt01_index = ", "tt01_index = 1", 1),
                        encoding="utf-8")
    else:
        (config / "consent.toml").write_text((config / "consent.toml").read_text(encoding="utf-8")
                                             .replace("\nversion = ", "\nversoin = ", 1), encoding="utf-8")
    return config


@pytest.mark.parametrize(("broken", "said"), [("criteria", "bộ tiêu chí trong SIPAS_CONFIG_DIR"),
                                               ("consent", "[[wording]] thứ 1: thiếu khóa version")])
def test_a_broken_criterion_set_or_consent_file_fails_the_doctor(deployment, tmp_path, broken, said):
    """The web app and the scheduler refuse to start on these files: the doctor said "Mọi mục đều ổn." (exit 0)."""
    config = _broken_config(tmp_path, broken)
    dep = deployment_for(deployment.settings.database_url, tmp_path, SIPAS_CONFIG_DIR=str(config))
    outcomes = {o.name: o.finding for o in run_checks(dep, CHECKS)}
    dep.close()
    assert not outcomes["config_files"].ok
    assert outcomes["config_files"].message_vi.startswith("Cấu hình sai: ")
    assert said in outcomes["config_files"].message_vi and str(config) in outcomes["config_files"].message_vi
    assert "sipas doctor" in outcomes["config_files"].fix_vi or "SIPAS_CONFIG_DIR" in outcomes["config_files"].fix_vi
