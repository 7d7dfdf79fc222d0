"""A send whose outcome is unknown is never simply repeated: it is looked up at the provider first.

Twilio through a canned HTTP client (every request it would make is recorded): a read timeout, then
the lookup finds the message (no second POST), finds nothing (one resend) or keeps failing (the
invitation fails, never a second POST). A refused connection is resent without a lookup; a provider
that de-duplicates on the request id gets the same request again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.providers import SendResult, TemporaryFailure
from sms_gateway.providers.twilio_provider import LOOKUP_MARGIN, TwilioProvider
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.canned import CREATED, CannedHttpClient, listed, listing
from tests.sms_gateway.conftest import PHONE, PUBLIC, RecordingProvider
from tests.sms_gateway.test_provider_errors import REFUSED

NOW = local(2026, 1, 7, 10, 0)
TIMEOUT = requests.exceptions.ReadTimeout("read timed out")


@pytest.fixture
def sms(settings) -> SmsSettings:  # type: ignore[no-untyped-def]
    return SmsSettings.from_settings(settings)


def returned(session, unit=None, phone=PHONE):  # type: ignore[no-untyped-def]
    unit = unit or create_unit(session)
    create_dossier(session, unit, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7, 9),
                   intake_channel=IntakeChannel.ONLINE_FULL, phone=phone, sms_consent=True)
    session.commit()
    return unit


def at(app, settings, sms, provider, *minutes):  # type: ignore[no-untyped-def]
    for minute in minutes:
        run_cycle(get_database(app), settings, now=NOW + timedelta(minutes=minute), provider=provider, sms=sms)


def state(session):  # type: ignore[no-untyped-def]
    session.commit()
    session.expire_all()
    return (session.scalars(select(Invitation)).one(),
            session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all())


def the_posted_body(requests_so_far: list[dict]) -> str:
    return requests_so_far[0]["data"]["Body"]


def test_read_timeout_then_the_lookup_finds_the_message_so_nothing_is_posted_again(app, session, settings, sms):
    returned(session)
    found = "SM" + "e" * 32
    canned = CannedHttpClient(TIMEOUT, lambda sent: listing(listed(the_posted_body(sent), NOW + timedelta(seconds=2),
                                                                   sid=found)))
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 0)
    invitation, (outbound,) = state(session)
    assert invitation.status is InvitationStatus.PENDING and outbound.status is MessageStatus.UNKNOWN
    assert outbound.sid is None and invitation.last_error_code == "timeout"

    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 1, 5, 60)
    assert canned.methods == ["POST", "GET"] and canned.replies == []
    lookup = canned.requests[1]
    assert lookup["uri"].endswith("/Messages.json") and lookup["params"] == {"To": PHONE, "PageSize": 20}
    invitation, (outbound,) = state(session)
    assert invitation.status is InvitationStatus.SENT and invitation.provider_sid == found
    assert invitation.sent_at == NOW and invitation.attempts == 2
    assert outbound.sid == found and outbound.status is MessageStatus.SENT


def test_read_timeout_then_the_lookup_finds_nothing_so_it_is_posted_once_more(app, session, settings, sms):
    returned(session)
    canned = CannedHttpClient(
        TIMEOUT,
        lambda sent: listing(listed("another message", NOW + timedelta(seconds=5), sid="SM" + "1" * 32),
                             listed(the_posted_body(sent), NOW - LOOKUP_MARGIN - timedelta(seconds=1),
                                    sid="SM" + "2" * 32),  # same text, but before this attempt
                             listed(the_posted_body(sent), NOW, sid="SM" + "3" * 32, direction="inbound")),
        (201, CREATED))
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 0, 1, 5, 60)
    assert canned.methods == ["POST", "GET", "POST"] and canned.replies == []
    invitation, (first, second) = state(session)
    assert invitation.status is InvitationStatus.SENT and invitation.provider_sid == CREATED["sid"]
    assert (first.status, first.error_code, first.sid) == (MessageStatus.FAILED, "not_at_provider", None)
    assert second.sid == CREATED["sid"] and second.body == first.body
    posts = [r["data"] for r in canned.requests if r["method"] == "POST"]
    assert posts[0]["Body"] == posts[1]["Body"]
    assert [p["StatusCallback"] for p in posts] == [f"{PUBLIC}/sms/twilio/status?o={first.id}",
                                                   f"{PUBLIC}/sms/twilio/status?o={second.id}"]


def test_when_the_lookup_keeps_failing_the_invitation_fails_and_is_never_posted_again(app, session, settings, sms):
    returned(session)
    unavailable = (503, {"status": 503, "message": "Service Unavailable"})
    canned = CannedHttpClient(TIMEOUT, *[unavailable] * 4)
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 0, 1, 3, 7, 15)  # backoff 60, 120, 240, 480 s
    assert canned.methods == ["POST"] + ["GET"] * 4 and canned.replies == []
    invitation, (outbound,) = state(session)
    assert invitation.status is InvitationStatus.FAILED and invitation.last_error_code == "unknown_outcome"
    assert invitation.attempts == 5 and outbound.status is MessageStatus.UNKNOWN
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 31, 120, 60 * 24)
    assert len(canned.requests) == 5  # an empty canned list would have raised on any further call


def test_a_lookup_that_cannot_tell_is_asked_again_later(app, session, settings, sms):
    returned(session)
    canned = CannedHttpClient(TIMEOUT, (503, {"status": 503}), lambda sent: listing(
        listed(the_posted_body(sent), NOW + timedelta(seconds=1))))
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 0, 1)
    invitation, _ = state(session)
    assert invitation.status is InvitationStatus.PENDING and invitation.last_error_code == "lookup_http503"
    assert invitation.next_attempt_at == NOW + timedelta(minutes=1, seconds=120)
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 2, 3)
    assert canned.methods == ["POST", "GET", "GET"]
    assert state(session)[0].status is InvitationStatus.SENT


def test_a_refused_connection_is_sent_again_without_a_lookup(app, session, settings, sms):
    returned(session)
    canned = CannedHttpClient(REFUSED, (201, CREATED))
    at(app, settings, sms, TwilioProvider(sms, http_client=canned), 0, 1)
    assert canned.methods == ["POST", "POST"]
    invitation, (first, second) = state(session)
    assert (first.status, first.error_code) == (MessageStatus.FAILED, "network")
    assert invitation.status is InvitationStatus.SENT and second.sid == CREATED["sid"]


def test_a_provider_that_deduplicates_gets_the_same_request_again(app, session, settings, sms):
    class Deduplicating(RecordingProvider):
        deduplicates_requests = True

    returned(session)
    provider = Deduplicating()
    provider.failures = [TemporaryFailure("http502", may_have_sent=True)]
    at(app, settings, sms, provider, 0, 1)
    assert provider.looked_up == [] and len(provider.calls) == 2
    assert provider.calls[0]["request_id"] == provider.calls[1]["request_id"]
    invitation, (outbound,) = state(session)  # the same row: one message, however many requests
    assert invitation.status is InvitationStatus.SENT and outbound.status is MessageStatus.ACCEPTED


def test_the_row_being_reconciled_does_not_count_twice_against_the_daily_cap(app, session, settings, sms):
    unit = returned(session)
    returned(session, unit)
    returned(session, unit)
    provider = RecordingProvider()
    provider.failures = [None, None, TemporaryFailure("timeout", may_have_sent=True)]
    provider.lookups = [None]
    at(app, settings, sms, provider, 0, 1)
    assert len(provider.sent) == 3 and len(provider.looked_up) == 1
    statuses = [i.status for i in session.scalars(select(Invitation).order_by(Invitation.id))]
    assert statuses == [InvitationStatus.SENT] * 3


def test_an_ambiguous_reminder_found_at_the_provider_is_not_sent_again(app, session, settings, sms):
    returned(session)
    provider = RecordingProvider()
    at(app, settings, sms, provider, 0)
    provider.failures = [TemporaryFailure("timeout", may_have_sent=True)]
    provider.lookups = [SendResult(sid="SM" + "9" * 32, status="delivered")]
    at(app, settings, sms, provider, 48 * 60, 48 * 60 + 1, 48 * 60 + 30)
    assert len(provider.calls) == 2 and len(provider.looked_up) == 1
    assert provider.looked_up[0][2] == NOW + timedelta(hours=48)
    invitation, (_, reminder) = state(session)
    assert reminder.kind is MessageKind.REMINDER and reminder.sid == "SM" + "9" * 32
    assert invitation.reminder_sent_at == NOW + timedelta(hours=48) and invitation.reminder_attempts == 2


def test_a_reminder_whose_lookup_keeps_failing_is_given_up(app, session, settings, sms):
    returned(session)
    provider = RecordingProvider()
    at(app, settings, sms, provider, 0)
    provider.failures = [TemporaryFailure("timeout", may_have_sent=True)]
    provider.lookups = [TemporaryFailure("lookup_network")] * 4
    start = 48 * 60
    at(app, settings, sms, provider, start, start + 1, start + 3, start + 7, start + 15, start + 31, start + 600)
    assert len(provider.calls) == 2 and len(provider.looked_up) == 4
    invitation, _ = state(session)
    assert invitation.status is InvitationStatus.SENT and invitation.reminder_sent_at is None
    assert invitation.last_error_code == "unknown_outcome" and invitation.next_attempt_at == invitation.expires_at


def test_the_twilio_lookup_cannot_tell_when_the_page_is_full_of_newer_messages(sms):  # type: ignore[no-untyped-def]
    newer = [listed(f"tin {i}", NOW + timedelta(minutes=i), sid=f"SM{i:032d}") for i in range(20)]
    provider = TwilioProvider(sms, http_client=CannedHttpClient(listing(*newer), listing(*newer[:19])))
    with pytest.raises(TemporaryFailure) as undecided:
        provider.find_sent(PHONE, "Moi danh gia", NOW)
    assert undecided.value.code == "lookup_incomplete"
    assert provider.find_sent(PHONE, "Moi danh gia", NOW) is None


def test_an_ambiguous_last_attempt_is_given_up_not_retried(app, session, settings, sms):
    returned(session)
    provider = RecordingProvider()
    provider.failures = [TemporaryFailure("timeout", may_have_sent=True)]
    at(app, settings, replace(sms, max_attempts=1), provider, 0, 1, 60)
    assert len(provider.calls) == 1 and provider.looked_up == []
    invitation, (outbound,) = state(session)
    assert invitation.status is InvitationStatus.FAILED and invitation.last_error_code == "unknown_outcome"
    assert outbound.status is MessageStatus.UNKNOWN and outbound.error_code == "timeout"
