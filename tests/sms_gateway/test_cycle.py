"""The invitation cycle called with a fixed ``now``: who is invited, when, how often, and what a crash leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sipas.models import DossierContact, IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import InvalidNumber, Invitation, InvitationStatus, MessageKind, OptOut, OutboundMessage
from sms_gateway.providers import PermanentFailure, SendResult, TemporaryFailure
from sms_gateway.sending import run_cycle
from tests.factories import create_dossier, create_response, create_unit, local
from tests.sms_gateway.conftest import PHONE, PUBLIC, RecordingProvider

RETURNED = local(2026, 1, 7, 9, 0)


def returned(session, unit, *, phone=PHONE, consent=True, online=True, at=RETURNED, code=None):
    dossier = create_dossier(session, unit, code=code, received_at=at - timedelta(days=2), returned_at=at,
                             intake_channel=IntakeChannel.ONLINE_FULL if online else IntakeChannel.DIRECT,
                             phone=phone, sms_consent=consent)
    session.commit()
    return dossier


def cycle(app, settings, provider, now):
    return run_cycle(get_database(app), settings, now=now, provider=provider)


def invitations(session):
    session.commit()  # end the test's read transaction: the cycle committed in its own sessions
    session.expire_all()
    return session.scalars(select(Invitation).order_by(Invitation.id)).all()


def test_returned_online_dossier_with_consent_is_invited_once(app, session, settings, provider, catalogue):
    unit = create_unit(session, name="Phường Phú Hội")
    dossier = returned(session, unit, code="000.00.20.H57-260105-0001")
    returned(session, unit, online=False)  # filed in person: not invited by default
    returned(session, unit, phone="+84987654321", consent=False)  # no consent, no SMS

    summary = cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert summary.counts["invitation_sent"] == 1
    (to, body), = provider.sent
    assert to == PHONE
    assert "000.00.20.H57-260105-0001" in body and f"{PUBLIC}/r/" in body and "Phuong Phu Hoi" in body
    assert len(body) <= 160 and body.isascii()
    (invitation,) = invitations(session)
    assert invitation.dossier_id == dossier.id and invitation.status is InvitationStatus.SENT
    assert invitation.sent_at == local(2026, 1, 7, 10, 0) and invitation.expires_at == local(2026, 1, 14, 10, 0)
    outbound = session.scalars(select(OutboundMessage)).one()
    assert outbound.to_hash == invitation.phone_hash and PHONE not in (outbound.to_hint, outbound.body)

    cycle(app, settings, provider, local(2026, 1, 7, 10, 1))
    cycle(app, settings, provider, local(2026, 1, 7, 11, 0))
    assert len(provider.sent) == 1 and len(invitations(session)) == 1


def test_unit_options_invite_all_dossiers_or_none(app, session, settings, provider):
    unit = create_unit(session, options={"sms": {"all_dossiers": True}})
    returned(session, unit, online=False)
    silent = create_unit(session, options={"sms": {"enabled": False}})
    returned(session, silent, phone="+84987654321")
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert [to for to, _ in provider.sent] == [PHONE]


def test_quiet_hours_delay_until_the_window_opens(app, session, settings, provider):
    unit = create_unit(session)
    returned(session, unit, at=local(2026, 1, 7, 22, 10))
    summary = cycle(app, settings, provider, local(2026, 1, 7, 22, 30))
    assert summary.counts == {"created": 1, "quiet_hours": 1} and provider.sent == []
    (invitation,) = invitations(session)
    assert invitation.due_at == local(2026, 1, 8, 7, 0) and invitation.status is InvitationStatus.PENDING
    cycle(app, settings, provider, local(2026, 1, 8, 6, 59))
    assert provider.sent == []
    cycle(app, settings, provider, local(2026, 1, 8, 7, 0))
    assert len(provider.sent) == 1


def test_daily_cap_counts_every_message_to_the_number_over_24_hours(app, session, settings, provider):
    unit = create_unit(session)
    for _ in range(4):
        returned(session, unit)
    summary = cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert summary.counts["invitation_sent"] == 3 and summary.counts["deferred_daily_cap"] == 1
    waiting = [i for i in invitations(session) if i.status is InvitationStatus.PENDING]
    assert len(waiting) == 1 and waiting[0].due_at == local(2026, 1, 8, 10, 0)
    cycle(app, settings, provider, local(2026, 1, 8, 9, 59))
    assert len(provider.sent) == 3
    cycle(app, settings, provider, local(2026, 1, 8, 10, 0))
    assert len(provider.sent) == 4


def test_one_reminder_after_48_hours_without_an_answer(app, session, settings, provider, catalogue):
    unit = create_unit(session)
    returned(session, unit)
    rated = returned(session, unit, phone="+84987654321")
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert len(provider.sent) == 2
    create_response(session, catalogue, unit, dossier=rated, now=local(2026, 1, 8, 8, 0))
    session.commit()
    cycle(app, settings, provider, local(2026, 1, 9, 9, 59))
    assert len(provider.sent) == 2
    cycle(app, settings, provider, local(2026, 1, 9, 10, 0))
    cycle(app, settings, provider, local(2026, 1, 9, 10, 5))
    cycle(app, settings, provider, local(2026, 1, 11, 10, 5))
    assert len(provider.sent) == 3
    assert provider.sent[2][0] == PHONE and "nhac" in provider.sent[2][1]
    first, second = invitations(session)
    assert first.reminder_sent_at == local(2026, 1, 9, 10, 0)
    assert second.status is InvitationStatus.ANSWERED and second.reminder_sent_at is None
    kinds = session.scalars(select(OutboundMessage.kind).order_by(OutboundMessage.id)).all()
    assert kinds == [MessageKind.INVITATION, MessageKind.INVITATION, MessageKind.REMINDER]


def test_expiry_after_7_days_erases_the_phone_but_keeps_its_hash(app, session, settings, provider):
    unit = create_unit(session)
    dossier = returned(session, unit)
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    cycle(app, settings, provider, local(2026, 1, 14, 9, 59))
    assert invitations(session)[0].status is InvitationStatus.SENT
    contact = session.scalars(select(DossierContact).where(DossierContact.dossier_id == dossier.id)).one()
    assert contact.phone_e164 == PHONE
    summary = cycle(app, settings, provider, local(2026, 1, 14, 10, 0))
    assert summary.counts["expired"] == 1 and summary.counts["erased"] == 1
    assert invitations(session)[0].status is InvitationStatus.EXPIRED
    session.refresh(contact)
    assert contact.phone_e164 is None and contact.phone_hash
    assert len(provider.sent) == 2  # the invitation and its reminder, nothing after expiry


def test_an_erasure_at_window_close_lasts_through_a_later_import_and_api_update(app, client, session, settings,
                                                                                provider):
    from tests.factories import create_key

    unit = create_unit(session)
    dossier = returned(session, unit, code="000.00.20.H57-260105-0077")
    key = create_key(session, unit)
    session.commit()
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    cycle(app, settings, provider, local(2026, 1, 14, 10, 0))  # expired: the number is erased
    contact = session.scalars(select(DossierContact).where(DossierContact.dossier_id == dossier.id)).one()
    session.refresh(contact)
    assert contact.phone_e164 is None and contact.erased_at == local(2026, 1, 14, 10, 0)

    returned(session, unit, code=dossier.code, phone=PHONE)  # the next import carries the same number
    body = {"code": dossier.code, "received_at": "2026-01-05T09:00:00+07:00",
            "returned_at": "2026-01-07T09:00:00+07:00", "intake_channel": "online_full", "phone": "0912 345 678",
            "sms_consent": True}
    answer = client.post("/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    session.commit()
    session.expire_all()
    contact = session.scalars(select(DossierContact).where(DossierContact.dossier_id == dossier.id)).one()
    assert contact.phone_e164 is None
    cycle(app, settings, provider, local(2026, 1, 14, 11, 0))
    assert len(provider.sent) == 1  # the invitation, nothing after the erasure


def test_old_returned_dossiers_are_not_invited_and_their_phones_are_erased(app, session, settings, provider):
    unit = create_unit(session)
    old = returned(session, unit, at=local(2025, 12, 1))
    in_person = returned(session, unit, online=False, phone="+84987654321", at=local(2026, 1, 5))
    waiting = create_dossier(session, unit, returned=False, phone="+84911111111", sms_consent=True)
    session.commit()
    summary = cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert invitations(session) == [] and provider.sent == [] and summary.counts["erased"] == 1
    phones = {c.dossier_id: c.phone_e164 for c in session.scalars(select(DossierContact))}
    assert phones == {old.id: None, in_person.id: "+84987654321", waiting.id: "+84911111111"}
    cycle(app, settings, provider, local(2026, 1, 12, 10, 0))
    session.commit()
    session.expire_all()
    phones = {c.dossier_id: c.phone_e164 for c in session.scalars(select(DossierContact))}
    assert phones == {old.id: None, in_person.id: None, waiting.id: "+84911111111"}


class Crash(BaseException):
    """The process dies (kill -9 is not catchable; a BaseException stops the cycle the same way)."""


class SendThenCrash(RecordingProvider):
    def send(self, to_e164, body, *, status_callback=None, request_id=None):  # type: ignore[no-untyped-def]
        result = super().send(to_e164, body, status_callback=status_callback, request_id=request_id)
        if len(self.sent) == 1:
            raise Crash
        return result


def test_restart_after_a_crash_mid_cycle_sends_nothing_twice(app, session, settings):
    unit = create_unit(session)
    returned(session, unit)
    returned(session, unit, phone="+84987654321")
    provider = SendThenCrash()
    with pytest.raises(Crash):
        cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert len(provider.sent) == 1
    cycle(app, settings, provider, local(2026, 1, 7, 10, 1))
    cycle(app, settings, provider, local(2026, 1, 7, 10, 30))
    assert [to for to, _ in provider.sent] == [PHONE, "+84987654321"]
    first, second = invitations(session)
    assert first.status is InvitationStatus.FAILED and first.last_error_code == "interrupted"
    assert second.status is InvitationStatus.SENT


def test_temporary_failures_retry_with_backoff_then_give_up(app, session, settings, provider):
    unit = create_unit(session)
    returned(session, unit)
    provider.failures = [TemporaryFailure("http503"), TemporaryFailure("network")]
    start = local(2026, 1, 7, 10, 0)
    cycle(app, settings, provider, start)
    (invitation,) = invitations(session)
    assert invitation.status is InvitationStatus.PENDING and invitation.next_attempt_at == start + timedelta(seconds=60)
    cycle(app, settings, provider, start + timedelta(seconds=30))
    cycle(app, settings, provider, start + timedelta(seconds=60))
    (invitation,) = invitations(session)
    assert invitation.attempts == 2 and invitation.next_attempt_at == start + timedelta(seconds=180)
    cycle(app, settings, provider, start + timedelta(seconds=180))
    assert len(provider.sent) == 1 and invitations(session)[0].status is InvitationStatus.SENT

    returned(session, unit, phone="+84987654321")
    provider.failures = [TemporaryFailure("http500")] * 5
    later = local(2026, 1, 7, 12, 0)
    for minutes in (0, 1, 3, 7, 15, 31, 63):
        cycle(app, settings, provider, later + timedelta(minutes=minutes))
    failed = invitations(session)[1]
    assert failed.status is InvitationStatus.FAILED and failed.attempts == 5 and len(provider.sent) == 1


def test_21610_records_an_opt_out_and_21211_marks_the_number_invalid(app, session, settings, provider):
    unit = create_unit(session)
    returned(session, unit)
    returned(session, unit, phone="+84987654321")
    provider.failures = [PermanentFailure("21610"), PermanentFailure("21211")]
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    opted, invalid = invitations(session)
    assert opted.status is InvitationStatus.OPTED_OUT
    assert session.get(OptOut, opted.phone_hash).active
    assert invalid.status is InvitationStatus.FAILED and invalid.last_error_code == "21211"
    returned(session, unit, at=local(2026, 1, 7, 11, 0))  # same opted-out number, a new dossier
    cycle(app, settings, provider, local(2026, 1, 7, 12, 0))
    assert provider.sent == [] and invitations(session)[2].status is InvitationStatus.OPTED_OUT


def test_an_invalid_number_is_remembered_and_a_corrected_one_is_invited(app, session, settings, provider):
    unit = create_unit(session)
    first = returned(session, unit)
    provider.failures = [PermanentFailure("21211")]
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    (failed,) = invitations(session)
    assert failed.status is InvitationStatus.FAILED and failed.last_error_code == "21211"
    marked = session.get(InvalidNumber, failed.phone_hash)
    assert marked is not None and marked.error_code == "21211" and marked.provider == "recording"

    second = returned(session, unit, at=local(2026, 1, 8, 9, 0))  # the next dossier with the same number
    summary = cycle(app, settings, provider, local(2026, 1, 8, 10, 0))
    assert provider.sent == [] and [i.dossier_id for i in invitations(session)] == [first.id]
    assert "created" not in summary.counts

    create_dossier(session, unit, code=second.code, received_at=second.received_at, returned_at=second.returned_at,
                   intake_channel=IntakeChannel.ONLINE_FULL, phone="+84987654321", sms_consent=True)
    session.commit()
    cycle(app, settings, provider, local(2026, 1, 8, 11, 0))
    assert [to for to, _ in provider.sent] == ["+84987654321"]
    assert invitations(session)[1].status is InvitationStatus.SENT


def test_a_pending_invitation_to_a_number_found_invalid_is_not_sent(app, session, settings, provider):
    unit = create_unit(session)
    returned(session, unit)
    returned(session, unit)  # the same number: its invitation is pending when the first one fails
    provider.failures = [PermanentFailure("21211")]
    summary = cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert summary.counts["permanent_failure"] == 1 and summary.counts["invalid_number"] == 1
    assert provider.sent == []
    assert [(i.status, i.last_error_code) for i in invitations(session)] == [
        (InvitationStatus.FAILED, "21211"), (InvitationStatus.FAILED, "invalid_number")]


def test_at_send_time_a_message_over_the_segment_limit_is_shortened_or_not_sent(app, session, database_url, tmp_path,
                                                                                 provider, caplog):
    from tests.sms_gateway.conftest import make_settings

    unit = create_unit(session, name="Ủy ban nhân dân phường Vĩnh Ninh")
    returned(session, unit, code="000.00.20.H57-260105-0001")
    long_domain = make_settings(database_url, tmp_path, SIPAS_PUBLIC_BASE_URL="https://danhgiahailong.vinhninh.hue.gov.vn")
    summary = cycle(app, long_domain, provider, local(2026, 1, 7, 10, 0))
    assert summary.counts["invitation_sent"] == 1
    ((_, body),) = provider.sent
    assert body.startswith("UBND P. Vinh Ninh: HS 000.00.20.H57-260105-0001 ") and len(body) == 160
    assert session.scalars(select(OutboundMessage.segments)).one() == 1

    returned(session, unit, phone="+84987654321")
    longer = make_settings(database_url, tmp_path, SIPAS_PUBLIC_BASE_URL="https://" + "d" * 70 + ".gov.vn")
    summary = cycle(app, longer, provider, local(2026, 1, 7, 11, 0))
    assert summary.counts["too_long"] == 1 and len(provider.sent) == 1
    refused = invitations(session)[1]
    assert refused.status is InvitationStatus.FAILED and refused.last_error_code == "too_long"
    assert refused.attempts == 0 and session.scalar(select(func.count()).select_from(OutboundMessage)) == 1
    assert any("not sent" in r.getMessage() and "the limit is 1" in r.getMessage() for r in caplog.records)


def test_status_of_a_sent_message_is_recorded(app, session, settings):
    class Accepting(RecordingProvider):
        def send(self, to_e164, body, *, status_callback=None, request_id=None):  # type: ignore[no-untyped-def]
            assert status_callback is None  # only Twilio gets a callback URL
            return SendResult(sid="X1", status="accepted")

    unit = create_unit(session)
    returned(session, unit)
    cycle(app, settings, Accepting(), local(2026, 1, 7, 10, 0))
    session.commit()
    assert session.scalars(select(OutboundMessage.sid)).one() == "X1"


def test_two_cycles_at_once_send_each_invitation_once(app, session, settings):
    import threading
    import time

    class Slow(RecordingProvider):
        def send(self, to_e164, body, *, status_callback=None, request_id=None):  # type: ignore[no-untyped-def]
            time.sleep(0.02)
            return super().send(to_e164, body, status_callback=status_callback, request_id=request_id)

    unit = create_unit(session)
    phones = [f"+8491234560{i}" for i in range(6)]
    for phone in phones:
        returned(session, unit, phone=phone)
    provider = Slow()
    now = local(2026, 1, 7, 10, 0)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            cycle(app, settings, provider, now)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(to for to, _ in provider.sent) == sorted(phones)
    assert {i.status for i in invitations(session)} == {InvitationStatus.SENT}


def test_a_rating_with_another_instrument_still_closes_the_invitation(app, session, settings, provider, catalogue):
    unit = create_unit(session)
    dossier = returned(session, unit)
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    create_response(session, catalogue, unit, dossier=dossier, instrument="quay4", now=local(2026, 1, 7, 12, 0))
    session.commit()
    cycle(app, settings, provider, local(2026, 1, 9, 12, 0))
    assert invitations(session)[0].status is InvitationStatus.ANSWERED and len(provider.sent) == 1


def test_an_sms_invitation_asks_for_a_form_an_sms_reply_can_answer(app, session, settings, provider):
    """A ward whose kiosk uses quay4 (its questions 3 and 4 are not on the satisfaction scale) still invites by SMS
    to hue12, the domain's form for SMS: the reply texts say "1=Rat hai long 2=Hai long 3=Khong hai long" and an
    example of twelve digits, so a quay4 invitation stored "khong hai long" as "Phức tạp" and refused the example."""
    quay4, hue12 = create_unit(session, default_instrument="quay4"), create_unit(session)
    returned(session, quay4)
    returned(session, hue12, phone="+84987654321")
    cycle(app, settings, provider, local(2026, 1, 7, 10, 0))
    assert [(i.unit_id, i.instrument_code) for i in invitations(session)] == [(quay4.id, "hue12"), (hue12.id, "hue12")]


def test_no_message_goes_to_the_provider_after_22_00(app, session, settings, monkeypatch):
    """Domain notes §6: send between 07:00 and 22:00 only. The window was checked once at the start of a cycle,
    which then sent for up to 50 seconds (each provider call up to its timeout): a cycle started at 21:59:57 sent
    every message due."""
    import sms_gateway.sending as sending

    clock = [1000.0]
    monkeypatch.setattr(sending.time, "monotonic", lambda: clock[0])

    class OneSecondEach(RecordingProvider):
        def send(self, to_e164, body, **kwargs):  # type: ignore[no-untyped-def]
            clock[0] += 1.0
            return super().send(to_e164, body, **kwargs)

    unit = create_unit(session)
    for n in range(8):
        returned(session, unit, phone=f"+8491234{n:04d}")
    provider = OneSecondEach()
    summary = cycle(app, settings, provider, local(2026, 1, 7, 21, 59) + timedelta(seconds=57))
    assert len(provider.sent) == 3 and summary.counts.get("quiet_hours") == 1  # at :57, :58 and :59
    later = cycle(app, settings, provider, local(2026, 1, 8, 7, 0))
    assert len(provider.sent) == 8 and later.counts.get("invitation_sent") == 5
