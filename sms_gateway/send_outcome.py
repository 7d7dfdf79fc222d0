"""After the provider answered (or could not): the outcome of one attempt, each in its own transaction.

A failure that may have created the message leaves its row UNKNOWN and the invitation (or reminder)
waiting for a retry; the next attempt reconciles it with the provider (``find_sent``). When the
provider cannot tell and the attempts run out, the message is given up, never sent blind.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from sipas.storage import Database
from sms_gateway.cycle_summary import CycleSummary
from sms_gateway.invalid_numbers import mark_invalid
from sms_gateway.messages import moves_forward, new_outbound, outcome_status
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.optouts import opt_out
from sms_gateway.providers import PermanentFailure, SendResult, SmsError, TemporaryFailure
from sms_gateway.send_claim import Claim
from sms_gateway.settings import SmsSettings

log = logging.getLogger(__name__)
GAVE_UP = "unknown_outcome"  # the invitation's error code when it is failed rather than sent blind


def _retry_later(sms: SmsSettings, invitation: Invitation, kind: MessageKind, now: datetime) -> bool:
    """Release the claim with exponential backoff; False (and closed for good) when attempts are used up."""
    attempts = invitation.attempts if kind is MessageKind.INVITATION else invitation.reminder_attempts
    exhausted = attempts >= sms.max_attempts
    invitation.next_attempt_at = now + timedelta(seconds=sms.retry_base_seconds * 2 ** max(attempts - 1, 0))
    if kind is MessageKind.INVITATION:
        invitation.status = InvitationStatus.FAILED if exhausted else InvitationStatus.PENDING
    else:
        invitation.reminder_sent_at = None
        if exhausted:
            invitation.next_attempt_at = invitation.expires_at  # no more tries for this reminder
    return not exhausted


#: What a report or the citizen may have made of an invitation while its batch was being sent: left as it is
_CLOSED_MEANWHILE = (InvitationStatus.OPTED_OUT, InvitationStatus.ANSWERED, InvitationStatus.CANCELLED,
                     InvitationStatus.EXPIRED)


def _apply_sent(invitation: Invitation, outbound: OutboundMessage, provider: str, kind: MessageKind,
                now: datetime, result: SendResult, sent_at: datetime) -> None:
    """Record the provider's answer to the send. The cycle records a batch at its end (``record_sent_many``): a
    status report may have come first (Twilio's often does, within seconds; ``webhooks.apply_status`` then finds
    the row through ``?o=``). The send's answer ("queued") then moves the message only forward, and the
    invitation takes what the report would have made of it: a failure FAILED (it was overwritten with SENT and
    never retried), a delivery DELIVERED (a send answered "delivered", the console's, still makes it SENT). An
    invitation closed meanwhile (an opt-out in the report, the citizen's answer) is left as it is."""
    outbound.sid, outbound.updated_at = result.sid, now
    answered = outcome_status(result.status)
    reported_first = not moves_forward(outbound.status, answered)  # a report already got as far or further
    if not reported_first:
        outbound.status = answered
    if kind is not MessageKind.INVITATION:
        invitation.reminder_sent_at = sent_at
    elif invitation.status not in _CLOSED_MEANWHILE:
        invitation.status, invitation.sent_at, invitation.provider_sid = InvitationStatus.SENT, sent_at, result.sid
        invitation.provider = provider
        if outbound.status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):  # it existed, and failed
            invitation.status, invitation.last_error_code = InvitationStatus.FAILED, outbound.error_code
        elif reported_first and outbound.status is MessageStatus.DELIVERED:  # as the report would have made it
            invitation.status = InvitationStatus.DELIVERED
    else:
        log.info("invitation %s is %s: the send of outbound %s leaves it", invitation.id, invitation.status,
                 outbound.id)
        invitation.updated_at = now
        return
    invitation.next_attempt_at, invitation.updated_at = None, now


def record_sent(database: Database, provider: str, claim: Claim, now: datetime, result: SendResult,
                summary: CycleSummary, *, sent_at: datetime | None = None) -> None:
    """The provider has the message: ``sent_at`` is when it took it (an earlier attempt's time if found)."""
    with database.session() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        outbound = session.get(OutboundMessage, claim.outbound_id)
        assert invitation is not None and outbound is not None
        _apply_sent(invitation, outbound, provider, claim.kind, now, result, sent_at or now)
    summary.add(f"{claim.kind.value}_sent")


def record_sent_many(database: Database, sent: list[tuple[str, Claim, SendResult]], now: datetime,
                     summary: CycleSummary) -> None:
    """What ``record_sent`` does, for a batch of (provider, claim, result) in one transaction.

    The cycle sends a batch, then records it: one commit (and two ``IN`` queries) instead of one per message.
    Every message of the batch was claimed (committed) before it was sent, so a second sender still cannot
    send it again. A crash before this commit leaves the batch's invitations claimed (``sending``), as a crash
    around one send did: ``fail_interrupted`` marks them failed later, never sent again (at most once); the
    window is now up to one batch (``BATCH``) instead of one message."""
    if not sent:
        return
    with database.session() as session:
        invitations = {i.id: i for i in session.scalars(
            select(Invitation).where(Invitation.id.in_({claim.invitation_id for _, claim, _ in sent})))}
        outbounds = {o.id: o for o in session.scalars(
            select(OutboundMessage).where(OutboundMessage.id.in_({claim.outbound_id for _, claim, _ in sent})))}
        for provider, claim, result in sent:
            _apply_sent(invitations[claim.invitation_id], outbounds[claim.outbound_id], provider, claim.kind, now,
                        result, now)
    for _, claim, _ in sent:
        summary.add(f"{claim.kind.value}_sent")


def record_failure(database: Database, sms: SmsSettings, provider: str, claim: Claim, now: datetime,
                   error: SmsError, summary: CycleSummary) -> None:
    with database.session() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        outbound = session.get(OutboundMessage, claim.outbound_id)
        assert invitation is not None and outbound is not None
        outbound.updated_at = invitation.updated_at = now
        outbound.error_code = invitation.last_error_code = error.code
        if isinstance(error, TemporaryFailure):
            outbound.status = MessageStatus.UNKNOWN if error.may_have_sent else MessageStatus.FAILED
            if not _retry_later(sms, invitation, claim.kind, now) and error.may_have_sent:
                invitation.last_error_code = GAVE_UP  # a late status report may still resolve it
            summary.add("outcome_unknown" if error.may_have_sent else "temporary_failure")
            return
        outbound.status = MessageStatus.FAILED
        if isinstance(error, PermanentFailure) and error.opted_out and invitation.phone_hash:
            invitation.status = InvitationStatus.OPTED_OUT
            opt_out(session, invitation.phone_hash, now=now, source="provider")
            summary.add("opted_out")
            return
        if claim.kind is MessageKind.INVITATION:
            invitation.status = InvitationStatus.FAILED
        if isinstance(error, PermanentFailure) and error.invalid_number and invitation.phone_hash:
            mark_invalid(session, invitation.phone_hash, now=now, error_code=error.code, provider=provider)
        summary.add("permanent_failure")


def record_unreachable(database: Database, sms: SmsSettings, claim: Claim, now: datetime, error: TemporaryFailure,
                       summary: CycleSummary) -> None:
    """Nothing reached the provider (connection refused, no route, connect timeout): the attempt is given
    back and the message waits ``SIPAS_SMS_RETRY_SECONDS``. Attempts count what the provider saw; an
    outage (of the provider or of the office's line) must not use them up and fail the invitations."""
    with database.session() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        outbound = session.get(OutboundMessage, claim.outbound_id)
        assert invitation is not None and outbound is not None
        outbound.status, outbound.error_code, outbound.updated_at = MessageStatus.FAILED, error.code, now
        invitation.last_error_code, invitation.updated_at = error.code, now
        if claim.kind is MessageKind.INVITATION:
            invitation.status = InvitationStatus.PENDING
            invitation.attempts = max(invitation.attempts - 1, 0)
        else:
            invitation.reminder_sent_at = None
            invitation.reminder_attempts = max(invitation.reminder_attempts - 1, 0)
        invitation.next_attempt_at = now + timedelta(seconds=sms.retry_base_seconds)
    summary.add("provider_unreachable")


def record_undecided(database: Database, sms: SmsSettings, claim: Claim, now: datetime, error: TemporaryFailure,
                     summary: CycleSummary) -> None:
    """The provider could not say whether it has the earlier message: ask again later, or give up."""
    with database.session() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        assert invitation is not None
        invitation.updated_at = now
        if _retry_later(sms, invitation, claim.kind, now):
            invitation.last_error_code = error.code
            summary.add("lookup_failed")
            return
        invitation.last_error_code = GAVE_UP
        log.warning("%s of invitation %s given up: the provider cannot tell whether message %s went out",
                    claim.kind.value, claim.invitation_id, claim.outbound_id)
        summary.add("gave_up_unknown")


def start_resend(database: Database, provider: str, claim: Claim, now: datetime) -> Claim | SendResult:
    """The provider does not have the earlier message: mark it so and open a new row for the resend.

    Guarded on the row still being UNKNOWN without a sid: if a late status report resolved it in the
    meantime, that result is returned and nothing is sent."""
    with database.session() as session:
        changed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == claim.outbound_id, OutboundMessage.status == MessageStatus.UNKNOWN,
                   OutboundMessage.sid.is_(None))
            .values(status=MessageStatus.FAILED, error_code="not_at_provider", updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        earlier = session.get(OutboundMessage, claim.outbound_id)
        assert earlier is not None
        if changed != 1:  # only the status webhook changes such a row, and it always sets the sid
            assert earlier.sid is not None
            return SendResult(sid=earlier.sid, status=str(earlier.status))
        outbound = new_outbound(session, provider, claim.kind, phone=claim.phone, phone_hash=earlier.to_hash,
                                body=claim.body, now=now, invitation_id=claim.invitation_id, unit_id=earlier.unit_id)
        return Claim(claim.invitation_id, claim.kind, outbound.id, claim.phone, claim.body)
