"""Settings read from ``SIPAS_*`` environment variables into a frozen object.

Nothing reads the environment at import time: ``Settings.from_env()`` is called by the app factory,
the CLI and the scheduler. Channels parse their own settings from ``settings.env`` (a frozen copy of
the variables) so each channel owns its options.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = ROOT_DIR / "instance"
DEFAULT_CONFIG_DIR = ROOT_DIR / "config"


class SettingsError(ValueError):
    """A setting has a value the application cannot run with."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    """Read an integer setting, failing with the variable's name when it is malformed."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    try:
        return _bool(env.get(name), default)
    except SettingsError as exc:
        raise SettingsError(f"{name}: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    public_base_url: str
    timezone: str = "Asia/Ho_Chi_Minh"
    config_dir: Path = DEFAULT_CONFIG_DIR
    instance_dir: Path = DEFAULT_INSTANCE_DIR
    secure_cookies: bool = True
    login_max_failures: int = 5
    login_window_minutes: int = 15
    proxy_count: int = 0
    phone_regions: tuple[str, ...] = ("VN",)
    testing: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        source = dict(os.environ if environ is None else environ)
        instance_dir = Path(source.get("SIPAS_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
        database_url = source.get("SIPAS_DATABASE_URL") or f"sqlite:///{instance_dir / 'sipas.db'}"
        secret_key = source.get("SIPAS_SECRET_KEY") or ""
        settings = cls(
            database_url=database_url,
            secret_key=secret_key,
            public_base_url=(source.get("SIPAS_PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            timezone=source.get("SIPAS_TIMEZONE") or "Asia/Ho_Chi_Minh",
            config_dir=Path(source.get("SIPAS_CONFIG_DIR") or DEFAULT_CONFIG_DIR),
            instance_dir=instance_dir,
            secure_cookies=env_bool(source, "SIPAS_SECURE_COOKIES", True),
            login_max_failures=env_int(source, "SIPAS_LOGIN_MAX_FAILURES", 5, minimum=1),
            login_window_minutes=env_int(source, "SIPAS_LOGIN_WINDOW_MINUTES", 15, minimum=1),
            proxy_count=env_int(source, "SIPAS_PROXY_COUNT", 0),
            phone_regions=tuple(r.strip().upper() for r in (source.get("SIPAS_PHONE_REGIONS") or "VN").split(",")
                                if r.strip()),
            env=MappingProxyType({k: v for k, v in source.items() if k.startswith("SIPAS_")}),
        )
        settings = replace(settings, **overrides) if overrides else settings
        settings.validate()
        return settings

    def validate(self) -> None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(self.database_url)
        except ArgumentError as exc:
            raise SettingsError("SIPAS_DATABASE_URL is not a database URL (sqlite:////path/sipas.db or "
                                "postgresql+psycopg://user:password@host:5432/db)") from exc
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"SIPAS_TIMEZONE: unknown time zone {self.timezone!r}") from exc
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError("SIPAS_PUBLIC_BASE_URL must start with http:// or https://")
        import phonenumbers

        unknown = [r for r in self.phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not self.phone_regions:
            raise SettingsError(f"SIPAS_PHONE_REGIONS: unknown region code(s) {unknown} (use e.g. VN or VN,US)")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
