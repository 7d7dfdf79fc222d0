"""A setting the program cannot run with ends a `sipas` command with a message naming it, never a traceback.

The core settings (SIPAS_TIMEZONE, SIPAS_SECURE_COOKIES…) were turned into "Lỗi: Cấu hình sai: …" when the
command's context read them; those read later (the backup's, the scheduler's, the channels'), an unreadable
SIPAS_DATABASE_URL and a configuration folder without criterion sets ended in a Python traceback instead.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from sipas import cli as cli_module


@pytest.fixture
def run_cli(run_cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return run_cli("--quiet", *args, catch_exceptions=True)  # a traceback is the failure these tests look for

    return run


def _refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.output.startswith("Lỗi: "), result.output
    for word in words:
        assert word in result.output, result.output


def test_a_bad_backup_hour_is_named(run_cli) -> None:  # type: ignore[no-untyped-def]
    _refused(run_cli("backup", SIPAS_BACKUP_HOUR="25"), "Cấu hình sai", "SIPAS_BACKUP_HOUR")


def test_a_bad_sms_setting_is_named(run_cli) -> None:  # type: ignore[no-untyped-def]
    _refused(run_cli("send-due", SIPAS_SMS_WINDOW_START="7h"), "Cấu hình sai", "SIPAS_SMS_WINDOW_START")


def test_an_unreadable_database_url_is_named(run_cli) -> None:  # type: ignore[no-untyped-def]
    _refused(run_cli("db", "upgrade", SIPAS_DATABASE_URL="postgres//sipas@localhost"), "Cấu hình sai",
             "SIPAS_DATABASE_URL")


def test_a_configuration_folder_without_criterion_sets_is_named(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "no-config"
    empty.mkdir()
    _refused(run_cli("db", "upgrade", SIPAS_CONFIG_DIR=str(empty)), "SIPAS_CONFIG_DIR", str(empty))


def test_a_configuration_folder_without_criterion_sets_is_refused_in_vietnamese(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """It read "… SIPAS_CONFIG_DIR (<folder>): no criterion sets found in <folder>/instruments"."""
    empty = tmp_path / "no-config"
    empty.mkdir()
    result = run_cli("db", "upgrade", SIPAS_CONFIG_DIR=str(empty))
    assert result.output.strip() == (f"Lỗi: Cấu hình sai: bộ tiêu chí trong SIPAS_CONFIG_DIR ({empty}): không có tệp "
                                     f"bộ tiêu chí *.toml nào trong {empty / 'instruments'}")


def test_a_backup_folder_that_cannot_be_made_is_named(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _refused(run_cli("backup", "--output", str(blocker / "backups")), "Không sao lưu được", str(blocker))


def test_an_unreachable_database_is_named_without_its_password(run_cli) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once the socket is closed
    result = run_cli("db", "upgrade", SIPAS_DATABASE_URL=f"postgresql+psycopg://sipas:bi-mat@127.0.0.1:{port}/sipas")
    _refused(result, "Không kết nối được cơ sở dữ liệu", f"127.0.0.1:{port}")
    assert "bi-mat" not in result.output


def test_a_folder_that_cannot_be_made_is_named(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _refused(run_cli("db", "upgrade", SIPAS_DATABASE_URL=f"sqlite:///{blocker}/instance/sipas.db"),
             "Không truy cập được", str(blocker))


def test_the_scheduler_refuses_a_database_not_yet_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sipas scheduler` before `sipas db upgrade` (compose starts it beside the web service's upgrade) ended in
    "no such table: scheduler_lock" with a traceback; `sipas serve` already said what to run."""
    monkeypatch.setenv("SIPAS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()
    _refused(CliRunner().invoke(cli_module.cli, ["--quiet", "scheduler"]), "sipas db upgrade")


def test_why_a_folder_cannot_be_used_is_said_in_vietnamese_with_the_error_code(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The C library's English ("Not a directory", "[Errno 20] Not a directory: '…'") followed the Vietnamese."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    backup = run_cli("backup", "--output", str(blocker / "backups"))
    assert backup.output.strip() == (f"Lỗi: Không sao lưu được vào {blocker / 'backups'}: "
                                     "một phần của đường dẫn là tệp, không phải thư mục (ENOTDIR)")
    upgrade = run_cli("db", "upgrade", SIPAS_DATABASE_URL=f"sqlite:///{blocker}/instance/sipas.db")
    assert upgrade.output.strip() == (f"Lỗi: Không truy cập được {blocker / 'instance'}: "
                                      "một phần của đường dẫn là tệp, không phải thư mục (ENOTDIR)")


def test_sipas_serve_names_a_wrong_setting_before_starting_anything(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`make run` with SIPAS_KIOSK_BURST_COUNT=1 started the scheduler and gunicorn, each refused the setting, and the
    last line blamed the port: "Máy chủ web (gunicorn) đã dừng với mã 3 … (cổng đang bận? …)"."""
    import subprocess

    def started(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a process was started with a setting the services refuse")

    monkeypatch.setattr(subprocess, "Popen", started)
    result = run_cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    result = run_cli("serve", "--port", "1", SIPAS_KIOSK_BURST_COUNT="1")
    _refused(result, "Cấu hình sai: SIPAS_KIOSK_BURST_COUNT = '1' — ")
    assert "gunicorn" not in result.output


def test_restoring_a_file_that_is_no_backup_says_why_in_vietnamese(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`sipas restore export.csv` printed tarfile's English over three lines ("file could not be opened
    successfully:\\n- method gz: ReadError('not a gzip file')…")."""
    import tarfile

    not_tar = tmp_path / "export.csv"
    not_tar.write_text("a,b\n1,2\n")
    without_manifest = tmp_path / "other.tar"
    with tarfile.open(without_manifest, "w") as archive:
        archive.add(not_tar, arcname="export.csv")
    for path, why in ((not_tar, "không phải tệp tar"), (without_manifest, "không có manifest.json")):
        result = run_cli("restore", str(path))
        assert result.exit_code == 1
        assert result.output.strip() == \
            f"Lỗi: Không khôi phục được: tệp không phải bản sao lưu của sipas: {path} ({why})"
