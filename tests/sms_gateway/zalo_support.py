"""Shared arrangements of the Zalo tests: settings pointing at the mock, a granted OA, a provider on a clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.providers.zalo import ZaloClient, ZaloProvider
from sms_gateway.zalo_settings import ZaloSettings
from sms_gateway.zalo_tokens import DatabaseTokens, set_token
from tests.sms_gateway.conftest import make_settings
from tests.sms_gateway.zns_mock import APP_ID, APP_SECRET, OA_SECRET, TEMPLATE_ID, ZnsMock


def zalo_env(zns: ZnsMock) -> dict[str, str]:
    return {"SIPAS_ZALO_APP_ID": APP_ID, "SIPAS_ZALO_APP_SECRET": APP_SECRET, "SIPAS_ZALO_OA_SECRET": OA_SECRET,
            "SIPAS_ZALO_API_BASE": zns.url, "SIPAS_ZALO_OAUTH_BASE": zns.url, "SIPAS_SMS_TIMEOUT_SECONDS": "5"}


def zalo_settings(database_url: str, tmp_path: Path, zns: ZnsMock, **env: str) -> Settings:
    return make_settings(database_url, tmp_path, **(zalo_env(zns) | env))


def zalo_unit_options(template_id: str = TEMPLATE_ID, **extra: object) -> dict[str, object]:
    return {"zalo": {"enabled": True, "template_id": template_id, **extra}}


def grant(database: Database, zns: ZnsMock, now: datetime, *, expires_in: int = 90_000) -> tuple[str, str]:
    access, refresh = zns.grant()
    with database.session() as session:
        set_token(session, access_token=access, refresh_token=refresh, expires_in_seconds=expires_in, now=now)
    return access, refresh


def provider_at(database: Database, settings: Settings, now: datetime) -> ZaloProvider:
    zalo = ZaloSettings.from_settings(settings)
    client = ZaloClient(zalo)
    return ZaloProvider(client, DatabaseTokens(database, zalo, client, clock=lambda: now))
