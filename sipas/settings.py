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
    """A setting has a value the application cannot run with.

    The message is for the operator, in Vietnamese, with the precise part verbatim:
    ``NAME = 'value' — <lý do>``; ``variable`` and ``value`` (the text received; None when it is not shown, as a
    database URL that may hold a password) are the same for code."""

    def __init__(self, message: str, *, variable: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable
        self.value = value


def bad_value(variable: str, value: str, reason_vi: str) -> SettingsError:
    """``NAME = 'value' — reason``: the variable's name and the value received verbatim, the reason in Vietnamese."""
    return SettingsError(f"{variable} = {value!r} — {reason_vi}", variable=variable, value=value)


def shown(variables: Mapping[str, object]) -> str:
    """``A = 'x', B = 'y'``: several settings refused together, each with the value in force."""
    return ", ".join(f"{name} = {str(value)!r}" for name, value in variables.items())


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValueError(value)


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Read an integer setting, failing with the variable's name when it is malformed or out of range."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    expected = f"cần một số nguyên từ {minimum} trở lên" if maximum is None else \
        f"cần một số nguyên từ {minimum} đến {maximum}"
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_value(name, raw, expected) from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise bad_value(name, raw, expected)
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    try:
        return _bool(env.get(name), default)
    except ValueError as exc:
        raise bad_value(name, env.get(name) or "",
                        f"cần giá trị bật/tắt: {', '.join(TRUE_WORDS)} (bật) hoặc {', '.join(FALSE_WORDS)} (tắt)"
                        ) from exc


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
        except (ArgumentError, ValueError) as exc:  # (a port that is no number) not shown: it may hold a password
            raise SettingsError("SIPAS_DATABASE_URL không phải địa chỉ cơ sở dữ liệu (dạng sqlite:////path/sipas.db "
                                "hoặc postgresql+psycopg://user:password@host:5432/db)",
                                variable="SIPAS_DATABASE_URL") from exc
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise bad_value("SIPAS_TIMEZONE", self.timezone,
                            "không phải múi giờ đã biết (tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh)") from exc
        if not self.public_base_url.startswith(("http://", "https://")):
            raise bad_value("SIPAS_PUBLIC_BASE_URL", self.public_base_url, "phải bắt đầu bằng http:// hoặc https://")
        import phonenumbers

        unknown = [r for r in self.phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not self.phone_regions:
            raw = self.env.get("SIPAS_PHONE_REGIONS", ",".join(self.phone_regions))
            what = f"mã quốc gia không hợp lệ: {', '.join(unknown)}" if unknown else "chưa có mã quốc gia nào"
            raise bad_value("SIPAS_PHONE_REGIONS", raw, f"{what} (dùng mã hai chữ cái, ví dụ VN hoặc VN,US)")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
