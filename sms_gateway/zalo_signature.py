"""``X-ZEvent-Signature`` of Zalo's webhooks: ``mac=`` + SHA-256 hex of first id + raw body + timestamp + secret.

Plain SHA-256, not HMAC. Which secret (the webhook's OA Secret Key or the app secret) and whether the
body's ``app_id`` or ``oa_id`` comes first are settings (the sources disagree). Compared in constant
time; an event whose timestamp is too far from our clock is refused (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sms_gateway.zalo_settings import ZaloSettings

BAD_SIGNATURE, STALE, NOT_JSON, WRONG_APP = "bad_signature", "stale_timestamp", "not_json", "wrong_app"


def expected_mac(zalo: ZaloSettings, payload: dict[str, Any], raw: bytes) -> str:
    first = str(payload.get("app_id" if zalo.signature_order == "app_id" else "oa_id") or "")
    stamp = str(payload.get("timestamp") or "")
    return hashlib.sha256(first.encode() + raw + stamp.encode() + zalo.webhook_secret.encode()).hexdigest()


def check_event(zalo: ZaloSettings, raw: bytes, header: str, now: datetime) -> tuple[dict[str, Any] | None, str | None]:
    """The decoded event, or None and the machine error code (``bad_signature``, ``stale_timestamp``, …)."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, NOT_JSON
    if not isinstance(payload, dict):
        return None, NOT_JSON
    given = header.strip()
    given = given[4:] if given.lower().startswith("mac=") else given
    if not zalo.webhook_secret or not hmac.compare_digest(given.lower().encode(),
                                                          expected_mac(zalo, payload, raw).encode()):
        return None, BAD_SIGNATURE
    if zalo.app_id and str(payload.get("app_id") or "") != zalo.app_id:
        return None, WRONG_APP
    try:
        sent = int(str(payload.get("timestamp")))
    except ValueError:
        return None, STALE
    if abs(now.timestamp() * 1000 - sent) > zalo.event_max_age_seconds * 1000:
        return None, STALE
    return payload, None
