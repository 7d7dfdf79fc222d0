"""The OA token pair against the mock: refreshed ahead of expiry and on -124, one refresh at a time across
processes, the new pair stored with the consumption of the old one, a refused refresh alerting the console
and falling back to SMS; the grant given with ``sipas zalo set-token``; tokens never logged nor shown."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sipas import cli as cli_module
from sipas.models import IntakeChannel
from sipas.storage import Database, get_database
from sms_gateway.models import Invitation
from sms_gateway.models_zalo import ZaloAccount, ZaloNotice
from sms_gateway.providers.zalo import TokenUnavailable, ZaloClient, template_body
from sms_gateway.sending import run_cycle
from sms_gateway.zalo_settings import ZaloSettings
from sms_gateway.zalo_tokens import DatabaseTokens
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import PHONE, RecordingProvider
from tests.sms_gateway.zalo_support import grant, provider_at, zalo_settings, zalo_unit_options
from tests.sms_gateway.zns_mock import TEMPLATE_ID, ZnsMock, zns  # noqa: F401  (fixture)

NOW = local(2026, 1, 7, 10, 0)
BODY = template_body(TEMPLATE_ID, {"don_vi": "UBND P. Vĩnh Ninh", "ma_ho_so": "000.00.20.H57-1", "link": "abc"})


@pytest.fixture
def settings(database_url, tmp_path, zns):  # noqa: F811
    zns.now = NOW
    zns.phones.add("84912345678")
    return zalo_settings(database_url, tmp_path, zns)


def account(app) -> ZaloAccount:
    with get_database(app).read_sessionmaker() as session:
        found = session.get(ZaloAccount, 1)
        assert found is not None
        return found


def notices(app) -> list[str]:
    with get_database(app).read_sessionmaker() as session:
        return list(session.scalars(select(ZaloNotice.message).where(ZaloNotice.kind == "token")
                                    .order_by(ZaloNotice.id)))


def test_a_token_close_to_expiry_is_refreshed_before_sending(app, settings, zns):  # noqa: F811
    old_access, old_refresh = grant(get_database(app), zns, NOW, expires_in=30 * 60)  # inside the 60 min margin
    result = provider_at(get_database(app), settings, NOW).send(PHONE, BODY, request_id="7")
    assert result.sid == zns.messages[0]["msg_id"] and zns.refresh_calls == 1
    stored = account(app)
    assert stored.generation == 2 and stored.access_token not in ("", old_access)
    assert stored.refresh_token != old_refresh and zns.refresh[stored.refresh_token] is True
    assert zns.refresh[old_refresh] is False and stored.expires_at == NOW + timedelta(seconds=90_000)


def test_a_refused_access_token_is_refreshed_once_and_the_send_repeated(app, settings, zns):  # noqa: F811
    grant(get_database(app), zns, NOW)
    zns.expire_access_tokens()  # Zalo revoked it although our row says it is valid: -124
    result = provider_at(get_database(app), settings, NOW).send(PHONE, BODY, request_id="7")
    assert len(zns.messages) == 1 and result.sid == zns.messages[0]["msg_id"]
    assert zns.refresh_calls == 1 and account(app).generation == 2


def test_a_refused_refresh_alerts_the_console_and_invitations_go_by_sms(app, session, settings, zns):  # noqa: F811
    database = get_database(app)
    _access, refresh = grant(database, zns, NOW, expires_in=10)
    zns.refresh[refresh] = False  # already used (e.g. by a restored backup): Zalo refuses it, -14014
    unit = create_unit(session, options=zalo_unit_options())
    for phone in (PHONE, "+84987654321"):
        create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=phone,
                       intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    sms = RecordingProvider()
    run_cycle(database, settings, now=NOW, provider=sms, zalo=provider_at(database, settings, NOW))
    assert len(sms.sent) == 2 and zns.messages == [] and zns.refresh_calls == 1  # not asked again
    assert account(app).failure.startswith("-14014")
    assert "cần quản trị OA cấp lại quyền" in notices(app)[-1]
    session.expire_all()
    assert {i.zalo_fallback for i in session.scalars(select(Invitation))} == {"zalo_token"}
    assert len([n for n in notices(app) if "cấp lại quyền" in n]) == 1  # one notice, not one per invitation


@pytest.mark.parametrize("status", [429, 200])
def test_a_rate_limited_refresh_keeps_the_grant_and_is_tried_again(app, session, settings, zns, status):  # noqa: F811
    """Zalo rate limits the refresh (HTTP 429, or error -32 "vượt giới hạn số lần gọi API"): the refresh token was not
    exchanged, so the grant stays usable (no "cấp lại quyền", no SMS instead): the next cycle refreshes and sends."""
    database = get_database(app)
    _access, refresh = grant(database, zns, NOW, expires_in=10)
    zns.refresh_limited = [status]
    unit = create_unit(session, options=zalo_unit_options())
    create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=PHONE,
                   intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    sms = RecordingProvider()
    run_cycle(database, settings, now=NOW, provider=sms, zalo=provider_at(database, settings, NOW))
    assert sms.sent == [] and zns.messages == [] and zns.refresh_calls == 1
    stored = account(app)
    assert stored.failure is None and stored.refresh_token == refresh and notices(app)[-1].startswith("Quản trị")
    later = NOW + timedelta(hours=1)
    run_cycle(database, settings, now=later, provider=sms, zalo=provider_at(database, settings, later))
    assert sms.sent == [] and len(zns.messages) == 1 and zns.refresh_calls == 2
    assert account(app).generation == 2 and zns.refresh[refresh] is False
    session.expire_all()
    assert session.scalars(select(Invitation)).one().zalo_fallback is None


def test_one_refresh_at_a_time_across_processes(app, settings, zns):  # noqa: F811
    """Two processes find the token refused at once: one exchanges the refresh token, the other waits for
    the lock and uses the new pair (a second exchange would present a consumed refresh token: -14014)."""
    access, _ = grant(get_database(app), zns, NOW)
    zalo = ZaloSettings.from_settings(settings)
    databases = [Database(settings), Database(settings)]
    start = threading.Barrier(2)
    answers: list[str | BaseException] = []

    def refresh(database: Database) -> None:
        tokens = DatabaseTokens(database, zalo, ZaloClient(zalo), clock=lambda: NOW)
        start.wait()
        try:
            answers.append(tokens.refreshed(access))
        except BaseException as exc:  # reported by the assertion below
            answers.append(exc)

    threads = [threading.Thread(target=refresh, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for database in databases:
        database.dispose()
    assert zns.refresh_calls == 1 and len(answers) == 2
    assert answers[0] == answers[1] == account(app).access_token and account(app).generation == 2


def test_without_a_grant_zalo_is_unavailable(app, settings):
    zalo = ZaloSettings.from_settings(settings)
    with pytest.raises(TokenUnavailable):
        DatabaseTokens(get_database(app), zalo, ZaloClient(zalo), clock=lambda: NOW).current()


def test_set_token_stores_the_grant_and_never_shows_or_logs_a_token(app, settings, zns, monkeypatch,  # noqa: F811
                                                                   caplog):
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    for name, value in settings.env.items():
        if name.startswith("SIPAS_ZALO_"):
            monkeypatch.setenv(name, value)
    cli_module._add_extra_commands()
    access, refresh = zns.grant()
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(cli_module.cli, ["zalo", "set-token", "--expires-in", "600"],
                           input=f"{refresh}\n{access}\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stored = account(app)
    assert (stored.refresh_token, stored.access_token, stored.generation) == (refresh, access, 1)
    status = runner.invoke(cli_module.cli, ["zalo", "status"], catch_exceptions=False)
    assert "Lần cấp/làm mới: 1" in status.output
    provider_at(get_database(app), settings, stored.refreshed_at).send(PHONE, BODY, request_id="9")  # refreshes
    fresh = account(app)
    assert fresh.generation == 2 and zns.refresh_calls == 1
    shown = result.output + status.output + caplog.text
    for secret in (access, refresh, fresh.access_token, fresh.refresh_token):
        assert secret not in shown


def test_zalo_unit_enables_a_unit_with_its_template(app, session, settings, monkeypatch):
    from sms_gateway.zalo_settings import unit_template_id

    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()
    unit = create_unit(session, code="P-VN")
    session.commit()
    runner = CliRunner()
    missing = runner.invoke(cli_module.cli, ["zalo", "unit", "P-VN"])
    assert missing.exit_code != 0 and "--template-id" in missing.output
    done = runner.invoke(cli_module.cli, ["zalo", "unit", "P-VN", "--template-id", "236719", "--short-name",
                                          "UBND P. Vĩnh Ninh"], catch_exceptions=False)
    assert done.exit_code == 0 and "Đã bật" in done.output
    session.expire_all()
    assert unit_template_id(session.get(type(unit), unit.id)) == "236719"
    session.commit()  # end the read transaction: the CLI wrote in its own
    runner.invoke(cli_module.cli, ["zalo", "unit", "P-VN", "--disable"], catch_exceptions=False)
    session.expire_all()
    assert unit_template_id(session.get(type(unit), unit.id)) is None
