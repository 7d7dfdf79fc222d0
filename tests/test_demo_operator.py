"""The demo as the person trying sipas meets it: accounts printed last and kept in a file, a reset that
only ever empties a demo database, and the serve banner that repeats the accounts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from sipas import cli as cli_module
from sipas.demo import DEMO_UNIT_CODES, DEMO_USERNAMES
from sipas.demo_admin import ACCOUNTS_FILE
from sipas.models import Dossier, Unit, User
from sipas.serve_banner import banner, wait_until_serving


@pytest.fixture
def run_cli(run_cli, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_ENV_FILE", "")
    return run_cli


def _printed_accounts(output: str) -> dict[str, str]:
    lines = output.rstrip().splitlines()
    return {line.split()[0]: line.split()[1] for line in lines[-4 - 1:] if line.startswith("  ")}


def test_demo_prints_the_accounts_last_and_keeps_them_in_a_private_file(run_cli, session, settings):
    result = run_cli("demo", "--if-empty")
    assert result.exit_code == 0, result.output
    last_lines = result.stdout.rstrip().splitlines()[-5:]
    assert [line.split()[0] for line in last_lines] == [*DEMO_USERNAMES, "khóa"]
    accounts = settings.instance_dir / ACCOUNTS_FILE
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    assert all(line in accounts.read_text(encoding="utf-8") for line in last_lines)
    assert set(session.scalars(select(Unit.code))) == set(DEMO_UNIT_CODES)
    assert set(session.scalars(select(User.username))) == set(DEMO_USERNAMES)
    first_password = _printed_accounts(result.stdout)["admin"]
    session.rollback()

    again = run_cli("demo")
    assert again.exit_code != 0 and "sipas demo --reset" in again.output

    reset = run_cli("demo", "--reset")
    assert reset.exit_code == 0, reset.output
    new_password = _printed_accounts(reset.stdout)["admin"]
    assert new_password != first_password and new_password in accounts.read_text(encoding="utf-8")
    assert session.scalar(select(func.count()).select_from(Unit)) == 3
    assert session.scalar(select(func.count()).select_from(Dossier)) > 300
    session.rollback()

    assert run_cli("unit", "create", "--code", "P-THAT", "--name", "Phường Thật").exit_code == 0
    refused = run_cli("demo", "--reset")
    assert refused.exit_code != 0
    assert "không phải dữ liệu mẫu (đơn vị P-THAT)" in refused.output
    assert session.scalar(select(func.count()).select_from(Unit)) == 4


def test_demo_reset_refuses_when_a_real_account_exists(run_cli, session):
    assert run_cli("user", "create", "--username", "hoa", "--role", "admin", "--password",
                   "mat-khau-dai-123").exit_code == 0
    refused = run_cli("demo", "--reset")
    assert refused.exit_code != 0 and "tài khoản hoa" in refused.output
    assert session.scalar(select(func.count()).select_from(Unit)) == 0


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args):
        pass


def test_serve_banner_waits_for_the_server_and_repeats_the_demo_accounts(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert wait_until_serving(f"http://127.0.0.1:{server.server_port}/healthz", process, timeout=10)
    finally:
        process.terminate()
        process.wait()
        server.shutdown()
        server.server_close()
    assert not wait_until_serving(f"http://127.0.0.1:{server.server_port}/healthz", process, timeout=10)
    assert banner("http://127.0.0.1:8000", tmp_path) == "SIPAS đang chạy tại http://127.0.0.1:8000  (Ctrl+C để dừng)"
    (tmp_path / ACCOUNTS_FILE).write_text("Tài khoản\n  admin  abc (admin)\n", encoding="utf-8")
    assert banner("http://127.0.0.1:8000", tmp_path).splitlines()[2:4] == ["Tài khoản", "  admin  abc (admin)"]


def test_serve_gives_the_settings_file_to_the_app_and_prints_the_accounts_last(sqlite_template, tmp_path):
    """``sipas serve`` with settings only in the file: the web app reads them too (its secret key file lands in
    the file's instance folder), and the demo accounts come after the server's start-up lines."""
    import shutil
    import signal
    import socket
    import time

    database = tmp_path / "served.db"
    shutil.copyfile(sqlite_template, database)
    instance = tmp_path / "instance-from-file"
    instance.mkdir()
    (instance / ACCOUNTS_FILE).write_text("Tài khoản dữ liệu mẫu SIPAS:\n  admin  abcdefghij (admin)\n")
    env_file = tmp_path / "sipas.env"
    env_file.write_text(f"SIPAS_DATABASE_URL=sqlite:///{database}\nSIPAS_INSTANCE_DIR={instance}\n"
                        "SIPAS_SECURE_COOKIES=false\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")} | {"SIPAS_ENV_FILE": str(env_file)}
    process = subprocess.Popen([sys.executable, "-m", "sipas.cli", "serve", "--no-scheduler", "--workers", "1",
                                "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("(lưu trong"):
                break
        assert lines and lines[-1] == f"(lưu trong {instance / ACCOUNTS_FILE})", lines
        assert lines[-3:-1] == ["Tài khoản dữ liệu mẫu SIPAS:", "  admin  abcdefghij (admin)"]
        assert f"SIPAS đang chạy tại http://127.0.0.1:{port}  (Ctrl+C để dừng)" in lines
        assert (instance / "secret_key").is_file()  # written by the gunicorn app, from the file's setting
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()


def test_demo_prints_the_curl_example_at_the_configured_address(run_cli, monkeypatch):
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "http://127.0.0.1:8123")
    result = run_cli("demo", "--if-empty")
    assert result.exit_code == 0, result.output
    curl = next(line for line in result.stdout.splitlines() if "curl" in line)
    assert "http://127.0.0.1:8123/api/v1/instruments" in curl and ":8000" not in curl


@pytest.mark.parametrize("username", ["admin", "hoa"])
def test_demo_leaves_a_database_with_accounts_alone(run_cli, session, username):
    """A database with an account and no unit yet (an operator who made the admin before the ward) was "empty" to
    `sipas demo --if-empty` (`make run`): with an account named like a demo one it ended in a traceback
    ("Tên đăng nhập “admin” đã có"), with another it mixed the demo's units, dossiers and accounts into it."""
    assert run_cli("user", "create", "--username", username, "--role", "admin", "--password",
                   "mat-khau-dai-123").exit_code == 0
    kept = run_cli("demo", "--if-empty")
    assert kept.exit_code == 0 and "giữ nguyên" in kept.output, kept.output
    refused = CliRunner().invoke(cli_module.cli, ["--quiet", "demo"])
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit | None), refused.exception
    assert refused.output.startswith("Lỗi: ") and "sipas demo --reset" in refused.output, refused.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Unit)) == 0
    assert set(session.scalars(select(User.username))) == {username}
