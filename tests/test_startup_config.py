"""What the app checks when it starts: consent wordings, phone regions, one instance secret for all workers."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from sipas.consent import ConsentConfigError, load_consent_wordings
from sipas.dossiers import CONSENT_WORDING_VERSION
from sipas.instance_secret import _instance_secret
from sipas.settings import DEFAULT_CONFIG_DIR, Settings, SettingsError


def test_the_shipped_consent_wording_is_the_one_records_name_by_default() -> None:
    wording = load_consent_wordings(DEFAULT_CONFIG_DIR).get(CONSENT_WORDING_VERSION)
    assert wording is not None and "đồng ý" in wording.text and "TC" in wording.text


@pytest.mark.parametrize(("content", "message"), [
    ("", ": cần ít nhất một [[wording]] (một phiên bản lời đồng ý nhận tin nhắn)"),
    ('[[wording]]\nversion = "2024.1"\neffective_from = 2024-01-01\nlegal_basis = "x"\ntext = "y"\n',
     ": thiếu lời đồng ý phiên bản 2025.1 (phiên bản ghi cho hồ sơ nhập từ tệp và qua API khi không nêu phiên bản) "
     "— giữ [[wording]] có version = \"2025.1\""),
    ('[[wording]]\nversion = "2025.1"\neffective_from = "hôm nay"\nlegal_basis = "x"\ntext = "y"\n',
     ", lời đồng ý 2025.1: effective_from = 'hôm nay' — phải là ngày viết không có dấu ngoặc kép, ví dụ "
     "effective_from = 2026-07-01"),
    ('[[wording]]\nversion = "2025.1"\n', ", [[wording]] thứ 1: thiếu khóa effective_from, legal_basis, text"),
    ('[[wording]]\nversion = 2025\neffective_from = 2024-01-01\nlegal_basis = "x"\ntext = "y"\n',
     ", [[wording]] thứ 1: version = 2025 — phải là chữ trong dấu ngoặc kép, dài 1 đến 32 ký tự"),
    ('[[wording]]\nversion = "2025.1"\neffective_from = 2024-01-01\nlegal_basis = "x"\ntext = " "\n',
     ", lời đồng ý 2025.1: text và legal_basis không được để trống"),
    ('[[wording]]\nversion = "2025.1\n', ", dòng 2, cột 18: sai cú pháp TOML — xuống dòng giữa một chuỗi (thiếu dấu \" "
     "đóng chuỗi?)"),
])
def test_a_broken_consent_file_stops_the_start_with_a_precise_reason(tmp_path: Path, content: str,
                                                                      message: str) -> None:
    """The reasons were English ("consent.toml: wording #1 lacks effective_from"), a TOML error tomllib's own."""
    from tests.test_settings_messages_vi import english_left

    (tmp_path / "consent.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConsentConfigError) as refused:
        load_consent_wordings(tmp_path)
    assert str(refused.value) == f"{tmp_path / 'consent.toml'}{message}"
    assert english_left(str(refused.value), str(tmp_path), "text", "legal_basis", "effective_from", "version",
                        "wording", "TOML", "'hôm nay'") == []


def test_a_missing_consent_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConsentConfigError) as refused:
        load_consent_wordings(tmp_path)
    assert str(refused.value) == (f"{tmp_path / 'consent.toml'}: không có tệp này (các lời đồng ý nhận tin nhắn SMS, "
                                  "mọi tiến trình web đều cần) — chép lại config/consent.toml của bản cài đặt sipas")


def test_sipas_serve_refuses_a_broken_consent_file_before_starting_anything(run_cli, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`sipas serve` (make run) started gunicorn, whose workers died on "consent.toml: wording #1 lacks version" with
    a traceback each, and its last line blamed the port: "Máy chủ web (gunicorn) đã dừng với mã 3 … (cổng đang
    bận? …)"."""
    import subprocess

    assert run_cli("--quiet", "db", "upgrade").exit_code == 0
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    consent = config / "consent.toml"
    consent.write_text(consent.read_text(encoding="utf-8").replace("\nversion = ", "\nversio = ", 1), encoding="utf-8")

    def started(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a process was started with a consent file the web app refuses")

    monkeypatch.setattr(subprocess, "Popen", started)
    monkeypatch.setenv("SIPAS_CONFIG_DIR", str(config))
    result = run_cli("--quiet", "serve", catch_exceptions=True)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.output == (f"Lỗi: Cấu hình sai: {consent}, [[wording]] thứ 1: thiếu khóa version\n")


def test_phone_regions_are_checked() -> None:
    assert Settings.from_env({}).phone_regions == ("VN",)
    assert Settings.from_env({"SIPAS_PHONE_REGIONS": "vn, us"}).phone_regions == ("VN", "US")
    with pytest.raises(SettingsError, match="SIPAS_PHONE_REGIONS"):
        Settings.from_env({"SIPAS_PHONE_REGIONS": "VN,XX"})


def test_workers_starting_together_share_one_instance_secret(tmp_path: Path) -> None:
    settings = Settings.from_env({}, instance_dir=tmp_path / "instance")
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(_instance_secret(settings))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["secret_key"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_app_refuses_to_start_without_consent_wordings(tmp_path: Path) -> None:
    from sipas.app import create_app

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    (config / "consent.toml").unlink()
    with pytest.raises(ConsentConfigError):
        create_app(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key="k",
                                     config_dir=config, instance_dir=tmp_path / "i"))
