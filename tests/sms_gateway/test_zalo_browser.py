"""An invitation followed end to end: ``sipas send-due`` sends it through the ZNS mock, the mock posts the
signed delivery event to the running app, and the citizen opens the template's link and rates on a phone."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sipas import cli as cli_module
from sipas.app import create_app
from sipas.clock import utcnow
from sipas.models import IntakeChannel, Response, ResponseChannel
from sipas.settings import Settings
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus
from sms_gateway.zalo_tokens import set_token
from tests.browser_support import LiveServer, _free_port, screenshot_path
from tests.factories import create_dossier, create_unit
from tests.sms_gateway.zalo_support import zalo_env, zalo_unit_options
from tests.sms_gateway.zns_mock import VN, ZnsMock, zns  # noqa: F401  (fixture)
from tests.sms_links.test_browser import PHONE, rate_all

SECRET = "live-zalo-secret"


@pytest.fixture
def zalo_server(sqlite_template: Path, tmp_path: Path, zns, monkeypatch):  # noqa: F811
    path = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, path)
    port = _free_port()
    env = zalo_env(zns) | {"SIPAS_DATABASE_URL": f"sqlite:///{path}", "SIPAS_SECRET_KEY": SECRET,
                           "SIPAS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                           "SIPAS_INSTANCE_DIR": str(tmp_path / "instance"), "SIPAS_SMS_PROVIDER": "console"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # what `sipas send-due` reads
    settings = Settings.from_env(env, secure_cookies=False, testing=True)
    server = LiveServer(create_app(settings), port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        get_database(server.app).dispose()


@pytest.mark.browser
def test_send_due_to_delivery_event_to_the_phone_form(zalo_server, zns, browser):  # noqa: F811
    yesterday = (utcnow().astimezone(VN) - timedelta(days=1)).date()
    send_at = datetime(yesterday.year, yesterday.month, yesterday.day, 10, 0, tzinfo=VN)
    zns.now = send_at
    zns.phones.add("84912345678")
    database = get_database(zalo_server.app)
    access, refresh = zns.grant()
    with database.session() as session:
        unit = create_unit(session, name="Phường Vĩnh Ninh", options=zalo_unit_options())
        create_dossier(session, unit, code="000.00.20.H57-260105-0042", received_at=send_at - timedelta(days=3),
                       returned_at=send_at - timedelta(hours=1), intake_channel=IntakeChannel.ONLINE_FULL,
                       phone="+84912345678", sms_consent=True)
        set_token(session, access_token=access, refresh_token=refresh, now=utcnow())

    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["send-due", "--now", send_at.strftime("%Y-%m-%dT%H:%M")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (sent,) = zns.messages
    assert sent["template_data"]["ma_ho_so"] == "000.00.20.H57-260105-0042"

    answer = zns.post_event(f"{zalo_server.url}/zalo/events", zns.delivery_event(sent["msg_id"]))
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    with database.session() as session:
        assert session.scalars(select(Invitation)).one().status is InvitationStatus.DELIVERED

    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{zalo_server.url}/r/{sent['template_data']['link']}")  # the template's URL button
        page.locator(".rf--phone [data-screen='question']").wait_for()
        rate_all(page)
        page.locator(".rf-next").tap()
        page.locator('[data-testid="confirm"]').tap()
        page.locator('[data-screen="thanks"]').wait_for()
        page.screenshot(path=screenshot_path("zalo-phone-thanks.png"))
    finally:
        context.close()
    with database.session() as session:
        (response,) = session.scalars(select(Response)).all()
        assert response.channel is ResponseChannel.ZALO
        assert response.dossier_id == session.scalars(select(Invitation)).one().dossier_id
