"""``/console/zalo``: the OA grant pasted by the global administrator (never shown again), notices, and the
per-channel counts: sent, delivered, fell back to SMS, postponed, failed and why."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from sipas.accounts import create_user
from sipas.clock import utcnow
from sipas.models import IntakeChannel, Role
from sipas.storage import get_database
from sms_gateway.models_zalo import ZaloAccount
from sms_gateway.sending import run_cycle
from sms_gateway.zalo_stats import channel_counts
from tests.factories import PASSWORD, create_dossier, create_unit, login
from tests.sms_gateway.conftest import RecordingProvider
from tests.sms_gateway.zalo_support import grant, provider_at, zalo_settings, zalo_unit_options
from tests.sms_gateway.zns_mock import ZnsMock, zns  # noqa: F401  (fixture)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def settings(database_url, tmp_path, zns):  # noqa: F811
    return zalo_settings(database_url, tmp_path, zns)


def csrf(client) -> str:
    page = client.get("/console/zalo/").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_the_global_admin_pastes_the_grant_and_it_is_never_shown(app, client, session):
    root = create_user(session, username="root", password=PASSWORD, role=Role.ADMIN, units=[], actor="test")
    session.commit()
    login(client, root)
    assert "Chưa cấp quyền OA" in client.get("/console/zalo/").get_data(as_text=True)
    refused = client.post("/console/zalo/token", data={"refresh_token": " ", "csrf_token": csrf(client)})
    assert refused.status_code == 400 and "Chưa dán refresh token" in refused.get_data(as_text=True)
    answer = client.post("/console/zalo/token", data={"refresh_token": "RT-secret-value-123",
                                                      "access_token": "AT-secret-value-456",
                                                      "csrf_token": csrf(client)})
    assert answer.status_code == 302
    page = client.get("/console/zalo/").get_data(as_text=True)
    assert "Đã cấp quyền (lần cấp/làm mới thứ 1)" in page
    assert "RT-secret-value-123" not in page and "AT-secret-value-456" not in page
    session.expire_all()
    stored = session.get(ZaloAccount, 1)
    assert (stored.refresh_token, stored.access_token) == ("RT-secret-value-123", "AT-secret-value-456")


def test_a_ward_admin_sees_the_page_but_cannot_grant(app, client, session):
    ward = create_unit(session)
    admin = create_user(session, username="qt.phuong", password=PASSWORD, role=Role.ADMIN, units=[ward],
                        actor="test")
    session.commit()
    login(client, admin)
    page = client.get("/console/zalo/").get_data(as_text=True)
    assert "Lưu token" not in page
    answer = client.post("/console/zalo/token", data={"refresh_token": "x", "csrf_token": csrf(client)})
    assert answer.status_code == 403
    assert session.scalar(select(ZaloAccount)) is None


def test_counts_per_channel_say_what_fell_back_and_why(app, client, session, settings, zns):  # noqa: F811
    now = utcnow().astimezone(VN).replace(hour=10, minute=0, second=0, microsecond=0)
    zns.now = now
    zns.phones.add("84912345678")
    database = get_database(app)
    unit = create_unit(session, options=zalo_unit_options())
    for phone in ("+84912345678", "+84987654321", "+84977777777"):
        create_dossier(session, unit, received_at=now - timedelta(days=3), returned_at=now - timedelta(hours=1),
                       phone=phone, intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    grant(database, zns, now)
    sms = RecordingProvider()
    run_cycle(database, settings, now=now, provider=sms, zalo=provider_at(database, settings, now))
    body, headers = zns.delivery_event(zns.messages[0]["msg_id"])
    assert client.post("/zalo/events", data=body, headers=headers).status_code == 200
    session.commit()  # a fresh snapshot: the event was recorded by the app
    zalo, recording = channel_counts(session, [unit.id], now - timedelta(days=1))
    assert (zalo.channel, zalo.sent, zalo.delivered, zalo.fell_back, zalo.failed) == ("zalo", 1, 1, 2, 0)
    assert zalo.reasons == {"zalo-118": 2}
    assert (recording.channel, recording.sent, recording.failed) == ("recording", 2, 0)
    root = create_user(session, username="root", password=PASSWORD, role=Role.ADMIN, units=[], actor="test")
    session.commit()
    login(client, root)
    page = client.get("/console/zalo/").get_data(as_text=True)
    assert "số điện thoại chưa có tài khoản Zalo: 2" in page and "Chuyển sang SMS" in page
