"""Kiosk options read from ``SIPAS_KIOSK_*`` settings, and the instrument as the kiosk page embeds it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kiosk.services import KioskRules
from sipas.catalogue import Instrument
from sipas.settings import Settings, env_int


def kiosk_rules(settings: Settings) -> KioskRules:
    env = settings.env
    return KioskRules(
        min_interval=timedelta(seconds=env_int(env, "SIPAS_KIOSK_MIN_INTERVAL_SECONDS", 10)),
        burst_count=env_int(env, "SIPAS_KIOSK_BURST_COUNT", 3, minimum=2),
        burst_window=timedelta(seconds=env_int(env, "SIPAS_KIOSK_BURST_WINDOW_SECONDS", 600, minimum=1)),
        arm_for=timedelta(minutes=env_int(env, "SIPAS_KIOSK_ARM_MINUTES", 10, minimum=1)),
    )


def pairing_valid_for(settings: Settings) -> timedelta:
    return timedelta(minutes=env_int(settings.env, "SIPAS_KIOSK_PAIRING_MINUTES", 30, minimum=1))


def instrument_payload(instrument: Instrument) -> dict[str, Any]:
    """The citizen part of an instrument, in the shape ``rating-flow.js`` expects (see docs/kiosk.md)."""
    return {
        "code": instrument.code,
        "version": instrument.version,
        "label": instrument.label,
        "na_label": "Không áp dụng",
        "criteria": [
            {
                "code": c.code,
                "label": c.label,  # the legal wording, offered under the plain question
                "citizen_label": c.citizen_label,  # the plain question (null: the legal label is the question)
                "short_label": c.short_label,
                "allow_na": c.allow_na,
                "options": [{"code": o.code, "label": o.label, "points": o.points} for o in c.options],
            }
            for c in instrument.citizen_criteria
        ],
    }


TIMING_DEFAULTS = {"idle": 60, "countdown": 15, "thanks": 5, "poll": 3, "heartbeat": 30}


def timings(args: Any) -> dict[str, int]:
    """Screen timeouts in seconds; a query string may shorten them (tests, demonstrations) within bounds."""
    result = {}
    for name, default in TIMING_DEFAULTS.items():
        raw = args.get(name, "")
        result[name] = int(raw) if raw.isdigit() and 1 <= int(raw) <= 3600 else default
    result["countdown"] = min(result["countdown"], result["idle"])
    return result
