"""A wrong value stops the web app and the scheduler when they start, with the variable's name (docs/settings.md).

Settings a channel or a job reads only when it runs were not looked at when the process started: with
SIPAS_SMS_WINDOW_START=7h the scheduler started, took the lease, looked healthy and failed its SMS cycle every
minute (no invitation ever went out); with a bad SIPAS_KIOSK_* or SIPAS_QR_LINK_DAYS the web app started and
answered 500 to every kiosk rating or QR slip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sipas import scheduler
from sipas.app import create_app
from sipas.settings import Settings, SettingsError

BAD_VALUES = [
    ("SIPAS_SMS_WINDOW_START", "7h"),
    ("SIPAS_SMS_MAX_ATTEMPTS", "0"),
    ("SIPAS_SMS_CYCLE_SECONDS", "0"),
    ("SIPAS_ZALO_WINDOW_START", "5"),
    ("SIPAS_KIOSK_MIN_INTERVAL_SECONDS", "mười"),
    ("SIPAS_KIOSK_PAIRING_MINUTES", "0"),
    ("SIPAS_QR_LINK_DAYS", "0"),
    ("SIPAS_LINK_MAX_FAILURES", "q"),
    ("SIPAS_BACKUP_HOUR", "24"),
    ("SIPAS_BACKUP_ENABLED", "có"),
]


def _settings(tmp_path: Path, name: str, value: str) -> Settings:
    return Settings.from_env({name: value}, database_url=f"sqlite:///{tmp_path / 'sipas.db'}",
                             secret_key="test-secret-key", instance_dir=tmp_path / "instance", testing=True)


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_the_scheduler_refuses_to_start_before_taking_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 name: str, value: str) -> None:
    def lease_taken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"the lease was taken with {name}={value}")

    monkeypatch.setattr(scheduler, "acquire_lock", lease_taken)
    with pytest.raises(SettingsError, match=name):
        scheduler.run(_settings(tmp_path, name, value))


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_the_web_app_refuses_to_start(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        create_app(_settings(tmp_path, name, value))
