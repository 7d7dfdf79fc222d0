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
    ("", "at least one [[wording]]"),
    ('[[wording]]\nversion = "2024.1"\neffective_from = 2024-01-01\nlegal_basis = "x"\ntext = "y"\n',
     "version 2025.1"),
    ('[[wording]]\nversion = "2025.1"\neffective_from = "hôm nay"\nlegal_basis = "x"\ntext = "y"\n',
     "effective_from must be a date"),
    ('[[wording]]\nversion = "2025.1"\n', "lacks effective_from"),
])
def test_a_broken_consent_file_stops_the_start_with_a_precise_reason(tmp_path: Path, content: str,
                                                                      message: str) -> None:
    (tmp_path / "consent.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConsentConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_consent_wordings(tmp_path)


def test_a_missing_consent_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConsentConfigError, match=r"consent\.toml is missing"):
        load_consent_wordings(tmp_path)


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
