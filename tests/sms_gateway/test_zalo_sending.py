"""Invitations through Zalo (ZNS) against the local mock: template send, fallback to SMS once, quota and
night-ban codes rescheduled inside the Zalo window, ambiguous outcomes never sent twice."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus, MessageStatus, OutboundMessage
from sms_gateway.models_zalo import ZaloNotice
from sms_gateway.providers.base import TemporaryFailure
from sms_gateway.providers.zalo import (
    ERRORS,
    FALL_BACK,
    RESCHEDULE,
    ZaloClient,
    ZaloFallback,
    ZaloProvider,
    action_for,
    template_body,
)
from sms_gateway.sending import run_cycle
from sms_gateway.zalo_settings import ZaloSettings
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import PHONE, RecordingProvider
from tests.sms_gateway.zalo_support import grant, provider_at, zalo_settings, zalo_unit_options
from tests.sms_gateway.zns_mock import TEMPLATE_ID, Template, ZnsMock, zns  # noqa: F401  (fixture)

NOW = local(2026, 1, 7, 10, 0)
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def settings(database_url, tmp_path, zns):  # noqa: F811
    zns.now = NOW
    return zalo_settings(database_url, tmp_path, zns)


def returned(session, unit, *, phone=PHONE, code=None):
    dossier = create_dossier(session, unit, code=code, received_at=NOW - timedelta(days=3), returned_at=NOW,
                             intake_channel=IntakeChannel.ONLINE_FULL, phone=phone, sms_consent=True)
    session.commit()
    return dossier


def cycle(app, settings, sms_provider, now=NOW):
    database = get_database(app)
    return run_cycle(database, settings, now=now, provider=sms_provider, zalo=provider_at(database, settings, now))


def alerts(session):
    return session.scalars(select(ZaloNotice).where(ZaloNotice.kind != "token")).all()


def state(session):
    session.commit()
    session.expire_all()
    invitation = session.scalars(select(Invitation)).one()
    rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    return invitation, rows


@pytest.fixture
def zalo_unit(app, session, zns):  # noqa: F811
    unit = create_unit(session, name="Ủy ban nhân dân phường Vĩnh Ninh", options=zalo_unit_options())
    session.commit()
    grant(get_database(app), zns, NOW)
    return unit


def test_error_table_follows_the_contract():
    for code in (-118, -119, -114, -139, -140, -141, -108):
        assert action_for(code)[0] == FALL_BACK, code
    for code in (-115, -144, -147, -133):
        assert action_for(code)[0] == RESCHEDULE, code
    assert action_for(-124)[0] == "refresh" and action_for(-131)[0] == "alert" and action_for(-999)[0] == "alert"
    assert all(detail for _, detail in ERRORS.values())


def test_a_citizen_with_zalo_gets_the_template_and_no_sms(app, session, settings, zns, zalo_unit):  # noqa: F811
    zns.phones.add("84912345678")
    dossier = returned(session, zalo_unit, code="000.00.20.H57-260105-0001")
    sms = RecordingProvider()
    summary = cycle(app, settings, sms)
    assert summary.counts["invitation_sent"] == 1 and sms.sent == []
    (message,) = zns.messages
    assert message["phone"] == "84912345678" and message["template_id"] == TEMPLATE_ID
    assert message["template_data"]["ma_ho_so"] == "000.00.20.H57-260105-0001"
    assert message["template_data"]["don_vi"] == "UBND P. Vĩnh Ninh"
    invitation, (row,) = state(session)
    assert message["tracking_id"] == str(invitation.id) and invitation.dossier_id == dossier.id
    assert message["template_data"]["link"] and len(message["template_data"]["link"]) <= 200
    assert invitation.status is InvitationStatus.SENT and invitation.provider == "zalo"
    assert invitation.provider_sid == message["msg_id"] == row.sid and row.provider == "zalo"
    assert json.loads(row.body)["template_data"] == message["template_data"]
    cycle(app, settings, sms, NOW + timedelta(minutes=5))
    assert len(zns.messages) == 1 and sms.sent == []


def test_a_phone_without_zalo_falls_back_to_sms_once(app, session, settings, zns, zalo_unit):  # noqa: F811
    returned(session, zalo_unit)  # the phone is not in the mock's registry: -118
    sms = RecordingProvider()
    summary = cycle(app, settings, sms)
    assert summary.counts["zalo_fell_back"] == 1 and summary.counts["invitation_sent"] == 1
    assert zns.messages == [] and [to for to, _ in sms.sent] == [PHONE]
    invitation, (zalo_row, sms_row) = state(session)
    assert invitation.zalo_fallback == "zalo-118" and invitation.status is InvitationStatus.SENT
    assert invitation.provider == "recording"
    assert (zalo_row.provider, zalo_row.status, zalo_row.error_code) == ("zalo", MessageStatus.FAILED, "zalo-118")
    assert sms_row.provider == "recording" and sms_row.status is not MessageStatus.FAILED
    assert alerts(session) == []  # the citizen's choice, not an operator's problem
    cycle(app, settings, sms, NOW + timedelta(hours=1))
    assert len(sms.sent) == 1 and zns.messages == []


def test_an_unapproved_template_alerts_the_console_and_falls_back(app, session, settings, zns, zalo_unit):  # noqa: F811
    zns.phones.add("84912345678")
    zns.templates[TEMPLATE_ID].status = "PENDING_REVIEW"
    returned(session, zalo_unit)
    sms = RecordingProvider()
    cycle(app, settings, sms)
    assert len(sms.sent) == 1
    invitation, _ = state(session)
    assert invitation.zalo_fallback == "zalo-131"
    (notice,) = alerts(session)
    assert "mẫu tin chưa được duyệt" in notice.message and "SMS" in notice.message


@pytest.mark.parametrize(("limit", "extra", "code"), [(10, None, "zalo-1121"), (30, "ngay_tra", "zalo-1122")])
def test_template_parameter_limits_are_the_mock_s_and_map_to_a_fallback(app, settings, zns, zalo_unit,  # noqa: F811
                                                                         limit, extra, code):
    zns.phones.add("84912345678")
    params = dict(zns.templates[TEMPLATE_ID].params)
    params["ma_ho_so"] = ("code", limit, True)
    if extra:
        params[extra] = ("time", 20, True)
    zns.templates[TEMPLATE_ID] = Template(params=params)
    provider = provider_at(get_database(app), settings, NOW)
    body = template_body(TEMPLATE_ID, {"don_vi": "UBND P. Vĩnh Ninh", "ma_ho_so": "000.00.20.H57", "link": "abc"})
    with pytest.raises(ZaloFallback) as refused:
        provider.send(PHONE, body, request_id="12")
    assert refused.value.code == code and refused.value.alert and zns.messages == []


def test_a_dossier_code_over_zalo_s_limit_goes_by_sms_without_calling_zalo(app, session, settings, zns,  # noqa: F811
                                                                           zalo_unit):
    zns.phones.add("84912345678")
    returned(session, zalo_unit, code="000.00.20.H57-260105-0001-BO-SUNG-LAN-2")
    sms = RecordingProvider()
    cycle(app, settings, sms)
    assert zns.messages == [] and len(sms.sent) == 1
    invitation, _ = state(session)
    assert invitation.zalo_fallback == "zalo_param_length"


def test_the_daily_quota_waits_for_tomorrow_s_window(app, session, settings, zns, zalo_unit):  # noqa: F811
    zns.phones.add("84912345678")
    zns.daily_quota = 0
    returned(session, zalo_unit)
    sms = RecordingProvider()
    summary = cycle(app, settings, sms)
    assert summary.counts["zalo_rescheduled"] == 1 and sms.sent == [] and zns.messages == []
    invitation, (row,) = state(session)
    assert invitation.status is InvitationStatus.PENDING and invitation.zalo_fallback is None
    assert invitation.next_attempt_at == local(2026, 1, 8, 8, 0) and invitation.attempts == 0
    assert row.error_code == "zalo-144"
    assert "hạn mức" in alerts(session)[0].message
    zns.daily_quota, zns.now = 500, local(2026, 1, 8, 8, 0)
    cycle(app, settings, sms, local(2026, 1, 7, 23, 0))  # not yet due
    assert zns.messages == []
    cycle(app, settings, sms, local(2026, 1, 8, 8, 0))
    assert len(zns.messages) == 1 and sms.sent == []


def test_zalo_s_night_ban_reschedules_to_the_next_opening(app, session, settings, zns, zalo_unit):  # noqa: F811
    """Our clock says 20:00 but Zalo's says 22:30 (-133): sent at tomorrow's 08:00, never by SMS meanwhile."""
    zns.phones.add("84912345678")
    zns.now = local(2026, 1, 7, 22, 30)
    returned(session, zalo_unit)
    sms = RecordingProvider()
    cycle(app, settings, sms, local(2026, 1, 7, 20, 0))
    invitation, (row,) = state(session)
    assert row.error_code == "zalo-133" and invitation.next_attempt_at == local(2026, 1, 8, 8, 0)
    assert sms.sent == [] and alerts(session) == []


def test_outside_the_zalo_window_the_invitation_waits_instead_of_switching(app, session, settings, zns,  # noqa: F811
                                                                           zalo_unit):
    zns.phones.add("84912345678")
    returned(session, zalo_unit)
    sms = RecordingProvider()
    summary = cycle(app, settings, sms, local(2026, 1, 8, 7, 30))  # the SMS window is open, Zalo's is not
    assert summary.counts["zalo_window"] == 1 and sms.sent == [] and zns.messages == []
    invitation, _ = state(session)
    assert invitation.next_attempt_at == local(2026, 1, 8, 8, 0)
    zns.now = local(2026, 1, 8, 8, 0)
    cycle(app, settings, sms, local(2026, 1, 8, 8, 0))
    assert len(zns.messages) == 1 and sms.sent == []


def test_an_ambiguous_answer_is_neither_resent_nor_sent_by_sms(app, session, settings, zns, zalo_unit):  # noqa: F811
    zns.phones.add("84912345678")
    zns.http_failures = [502]
    returned(session, zalo_unit)
    sms = RecordingProvider()
    summary = cycle(app, settings, sms)
    assert summary.counts["outcome_unknown"] == 1
    for minutes in (5, 30, 120, 300, 600):
        cycle(app, settings, sms, NOW + timedelta(minutes=minutes))
    assert zns.messages == [] and sms.sent == []  # Zalo cannot be asked by tracking id: never sent blind
    invitation, rows = state(session)
    assert [r.status for r in rows] == [MessageStatus.UNKNOWN]
    assert invitation.status is InvitationStatus.FAILED and invitation.last_error_code == "unknown_outcome"


class Answering:
    """A requests.Session whose every call answers HTTP 200 with this JSON body."""

    def __init__(self, body: object) -> None:
        self.body = body

    def post(self, url, **kwargs):  # type: ignore[no-untyped-def]
        answer = requests.Response()
        answer.status_code, answer._content = 200, json.dumps(self.body).encode()
        answer.headers["Content-Type"] = "application/json"
        return answer

    get = post


class FixedToken:
    def current(self) -> str:
        return "tok"

    def refreshed(self, rejected: str) -> str:
        return "tok2"


@pytest.mark.parametrize("error", [None, "abc", [], float("inf")])
def test_an_answer_whose_error_is_not_a_number_is_ambiguous(error):
    """Read as neither a success nor a Zalo code: the send may have been taken (never resent blind, no SMS), and
    a read call (rating/get, quota) failed for now — never a bare TypeError/ValueError out of the sending cycle."""
    client = ZaloClient(ZaloSettings(app_id="app", app_secret="secret", oa_secret="oa"),
                        session=Answering({"error": error, "message": "?"}))  # type: ignore[arg-type]
    body = template_body(TEMPLATE_ID, {"don_vi": "UBND P. Vĩnh Ninh", "ma_ho_so": "HS-1", "link": "abc"})
    with pytest.raises(TemporaryFailure) as sent:
        ZaloProvider(client, FixedToken()).send(PHONE, body, request_id="17")
    assert sent.value.may_have_sent and sent.value.code == "zalo_bad_answer"
    with pytest.raises(TemporaryFailure) as read:
        client.get("tok", "/rating/get", {"template_id": "300501"})
    assert read.value.code == "zalo_bad_answer"


def test_a_unit_without_sms_gives_up_when_zalo_cannot_carry_it(app, session, settings, zns):  # noqa: F811
    unit = create_unit(session, options=zalo_unit_options() | {"sms": {"enabled": False}})
    session.commit()
    grant(get_database(app), zns, NOW)
    returned(session, unit)
    sms = RecordingProvider()
    summary = cycle(app, settings, sms)
    assert summary.counts.get("zalo_failed_no_sms") == 1 and sms.sent == []
    invitation, _ = state(session)
    assert invitation.status is InvitationStatus.FAILED and invitation.zalo_fallback == "zalo-118"


def test_a_unit_without_sms_sends_no_sms_while_zalo_is_not_granted(app, session, settings, zns):  # noqa: F811
    """``options.sms.enabled = false`` means no SMS at all: without an OA grant (or after it was revoked) the
    invitation waits for Zalo; it was sent by SMS."""
    unit = create_unit(session, options=zalo_unit_options() | {"sms": {"enabled": False}})
    session.commit()
    returned(session, unit)
    sms = RecordingProvider()
    summary = run_cycle(get_database(app), settings, now=NOW, provider=sms)
    assert sms.sent == [] and summary.counts.get("sms_off_waiting") == 1
    invitation, rows = state(session)
    assert invitation.status is InvitationStatus.PENDING and rows == []
    grant(get_database(app), zns, NOW + timedelta(minutes=5))
    zns.phones.add("84912345678")
    cycle(app, settings, sms, NOW + timedelta(minutes=5))  # granted: it goes by Zalo
    assert sms.sent == [] and len(zns.messages) == 1


def test_a_unit_without_sms_sends_no_sms_reminder(app, session, settings, zns, zalo_unit):  # noqa: F811
    """Reminders go by SMS only: a unit without SMS sends none (one went 48 hours after the Zalo invitation)."""
    unit = create_unit(session, options=zalo_unit_options() | {"sms": {"enabled": False}})
    session.commit()
    zns.phones.add("84912345678")
    returned(session, unit)
    sms = RecordingProvider()
    cycle(app, settings, sms)
    assert sms.sent == [] and len(zns.messages) == 1
    later = NOW + timedelta(hours=49)
    grant(get_database(app), zns, later)
    cycle(app, settings, sms, later)
    assert sms.sent == []


def test_a_rating_through_the_zalo_link_is_reported_under_channel_zalo(app, client, session, settings, zns,  # noqa: F811
                                                                        zalo_unit, catalogue):
    from aggregator.labels import channel_label
    from aggregator.queries import Scope, responses_by_channel
    from sipas.clock import Period, utcnow
    from sipas.models import Response, ResponseChannel
    from sms_gateway.models_links import LinkChannel, ShortLink
    from tests.factories import answers_for
    from tests.sms_links.conftest import csrf_token

    zns.phones.add("84912345678")
    with_zalo = returned(session, zalo_unit)
    without = returned(session, zalo_unit, phone="+84987654321")  # no Zalo: falls back to SMS with an SMS link
    sms = RecordingProvider()
    cycle(app, settings, sms)
    session.commit()
    links = {(link.dossier_id, link.channel): link for link in session.scalars(select(ShortLink))}
    code = links[(with_zalo.id, LinkChannel.ZALO)].code
    assert zns.messages[0]["template_data"]["link"] == code
    assert f"/r/{links[(without.id, LinkChannel.SMS)].code}" in sms.sent[0][1]
    link = links[(with_zalo.id, LinkChannel.ZALO)]
    with get_database(app).session() as writer:  # the cycle ran in January; the citizen rates today
        writer.get(ShortLink, link.id).expires_at = utcnow() + timedelta(days=1)
    html = client.get(f"/r/{code}").get_data(as_text=True)
    data = {f"a_{c}": option for c, option in answers_for(catalogue).items()}
    data.update(csrf_token=csrf_token(html), submit_key="k1", comment="")
    assert client.post(f"/r/{code}", data=data).status_code in (200, 303)
    session.commit()
    (response,) = session.scalars(select(Response)).all()
    assert response.channel is ResponseChannel.ZALO
    today = utcnow().astimezone(VN).date()
    period = Period.month(today.year, today.month)
    start, end = period.utc_bounds(VN)
    scope = Scope(unit_ids=(zalo_unit.id,), period=period, start_utc=start, end_utc=end, as_of=period.end)
    assert responses_by_channel(session, scope) == {"zalo": 1}
    assert channel_label("zalo") == "Tin Zalo (ZNS)"


def test_an_invitation_made_before_sms_was_turned_off_is_not_sent_by_sms(app, session, settings, zns):  # noqa: F811
    """A unit without a Zalo template that turns SMS off: what was already invited is given up, not sent."""
    unit = create_unit(session)
    session.commit()
    returned(session, unit)
    run_cycle(get_database(app), settings, now=NOW + timedelta(hours=13), provider=RecordingProvider())  # 23:00
    unit.options = {"sms": {"enabled": False}}
    session.commit()
    sms = RecordingProvider()
    summary = run_cycle(get_database(app), settings, now=NOW + timedelta(hours=22), provider=sms)  # 08:00
    invitation, _ = state(session)
    assert sms.sent == [] and summary.counts.get("sms_disabled") == 1
    assert invitation.status is InvitationStatus.FAILED and invitation.last_error_code == "sms_disabled"
