"""Zalo (ZNS template message) settings, parsed from ``settings.env``, and the per-unit template ids.

A unit opts in with ``options["zalo"] = {"enabled": true, "template_id": "<approved ZNS template id>"}``
(optionally ``"rating_template_id"`` for Zalo's own service-rating template). Which secret signs the
webhook and whether ``app_id`` or ``oa_id`` comes first are not settled by the public sources
(docs/zalo.md): both are settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from sipas.models import Unit
from sipas.settings import Settings, SettingsError, bad_value, env_int, shown

API_BASE = "https://business.openapi.zalo.me"
OAUTH_BASE = "https://oauth.zaloapp.com"
SIGNATURE_SECRETS = ("oa", "app")
SIGNATURE_ORDERS = ("app_id", "oa_id")


def _time(env: Mapping[str, str], name: str, default: str) -> time:
    raw = (env.get(name) or default).strip()
    try:
        hours, minutes = raw.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise bad_value(name, raw, "cần giờ dạng HH:MM, ví dụ 07:30") from exc


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise bad_value(name, env.get(name, ""), f"chỉ nhận một trong: {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class ZaloSettings:
    app_id: str = ""
    app_secret: str = ""
    oa_secret: str = ""
    api_base: str = API_BASE
    oauth_base: str = OAUTH_BASE
    timeout_seconds: int = 15
    window_start: time = time(8, 0)
    window_end: time = time(21, 0)
    refresh_margin_minutes: int = 60
    signature_secret: str = "oa"  # "oa": the OA Secret Key of the webhook settings; "app": the app secret
    signature_order: str = "app_id"  # the first term of the signed string: the body's app_id or its oa_id
    event_max_age_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> ZaloSettings:
        env = settings.env
        zalo = cls(
            app_id=env.get("SIPAS_ZALO_APP_ID", "").strip(),
            app_secret=env.get("SIPAS_ZALO_APP_SECRET", "").strip(),
            oa_secret=env.get("SIPAS_ZALO_OA_SECRET", "").strip(),
            api_base=(env.get("SIPAS_ZALO_API_BASE") or API_BASE).strip().rstrip("/"),
            oauth_base=(env.get("SIPAS_ZALO_OAUTH_BASE") or OAUTH_BASE).strip().rstrip("/"),
            timeout_seconds=env_int(env, "SIPAS_SMS_TIMEOUT_SECONDS", 15, minimum=1),
            window_start=_time(env, "SIPAS_ZALO_WINDOW_START", "08:00"),
            window_end=_time(env, "SIPAS_ZALO_WINDOW_END", "21:00"),
            refresh_margin_minutes=env_int(env, "SIPAS_ZALO_REFRESH_MARGIN_MINUTES", 60, minimum=1),
            signature_secret=_choice(env, "SIPAS_ZALO_SIGNATURE_SECRET", SIGNATURE_SECRETS),
            signature_order=_choice(env, "SIPAS_ZALO_SIGNATURE_ORDER", SIGNATURE_ORDERS),
            event_max_age_seconds=env_int(env, "SIPAS_ZALO_EVENT_MAX_AGE_SECONDS", 3600, minimum=10),
        )
        zalo.validate()
        return zalo

    def validate(self) -> None:
        start, end = f"{self.window_start:%H:%M}", f"{self.window_end:%H:%M}"
        if self.window_start >= self.window_end:
            raise SettingsError(f"{shown({'SIPAS_ZALO_WINDOW_START': start, 'SIPAS_ZALO_WINDOW_END': end})}"
                                " — giờ bắt đầu gửi phải trước giờ kết thúc", variable="SIPAS_ZALO_WINDOW_START",
                                value=start)
        # Zalo refuses template messages 22:00-06:00 (-133): the window must lie inside 06:00-22:00.
        if self.window_start < time(6, 0):
            raise bad_value("SIPAS_ZALO_WINDOW_START", start,
                            "phải từ 06:00 trở đi (Zalo không gửi tin ZNS từ 22:00 đến 06:00)")
        if self.window_end > time(22, 0):
            raise bad_value("SIPAS_ZALO_WINDOW_END", end,
                            "phải từ 22:00 trở về trước (Zalo không gửi tin ZNS từ 22:00 đến 06:00)")

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret)

    @property
    def webhook_secret(self) -> str:
        return self.oa_secret if self.signature_secret == "oa" else self.app_secret


def unit_zalo_options(unit: Unit) -> dict[str, Any]:
    options = (unit.options or {}).get("zalo")
    return options if isinstance(options, dict) else {}


def unit_template_id(unit: Unit) -> str | None:
    """The template the unit's Zalo invitations use: Zalo's service-rating template when the unit has one
    (``rating_template_id``: the citizen rates in Zalo, instrument ``zalo5``), else its invitation template
    (``template_id``: a link to the form); None when the unit does not send through Zalo."""
    options = unit_zalo_options(unit)
    template = str(options.get("rating_template_id") or options.get("template_id") or "").strip()
    return template if options.get("enabled") is True and template else None


def unit_rating_template_id(unit: Unit) -> str | None:
    options = unit_zalo_options(unit)
    template = str(options.get("rating_template_id") or "").strip()
    return template if options.get("enabled") is True and template else None
