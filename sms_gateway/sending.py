"""The send step of the invitation cycle, for a given ``now``.

Each message is claimed in its own committed transaction (``UPDATE … WHERE status = 'pending'``, or
``reminder_sent_at IS NULL`` for a reminder) before the provider is called, and its outcome is
written in another (``send_claim``, ``send_outcome``). A second process, or the same one after a
crash, can therefore never send the same invitation twice. The daily cap counts every message to the
number over the last 24 hours.

A failure that may have created the message (read timeout, 5xx, an unreadable answer) is never
simply retried: the next attempt asks the provider first (``find_sent``). Found: recorded as sent.
Not found: sent again. Cannot tell: asked again later, and given up (failed) when the attempts run
out. A provider that de-duplicates on the request id (``deduplicates_requests``) gets the same
request again instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sipas.instance_secret import secret_in_force
from sipas.models import Unit
from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.cycle_summary import CycleSummary
from sms_gateway.http_status import callback_url
from sms_gateway.invitations import bookkeeping, in_window
from sms_gateway.models import Invitation, InvitationStatus, MessageKind
from sms_gateway.providers import PermanentFailure, SendResult, SmsProvider, TemporaryFailure, build_provider
from sms_gateway.providers.zalo import ZaloFallback, ZaloReschedule
from sms_gateway.send_claim import Claim, Wordings, prepare
from sms_gateway.send_outcome import (
    record_failure,
    record_sent,
    record_sent_many,
    record_undecided,
    record_unreachable,
    start_resend,
)
from sms_gateway.settings import SmsSettings, sms_enabled
from sms_gateway.zalo_channel import ZALO, build_zalo_provider, record_fallback, record_rescheduled, route
from sms_gateway.zalo_settings import unit_template_id

__all__ = ["due_ids", "run_cycle"]

log = logging.getLogger(__name__)
BATCH = 200
#: A cycle takes no new message after this many seconds (the next one, a minute later, goes on).
CYCLE_BUDGET_SECONDS = 50


def _reconcile(database: Database, provider: SmsProvider, claim: Claim, now: datetime,
               sms: SmsSettings, summary: CycleSummary) -> Claim | None:
    """Ask the provider about the earlier attempt; the claim to send with, or None when nothing is to be sent."""
    assert claim.since is not None
    try:
        found = provider.find_sent(claim.phone, claim.body, claim.since)
    except TemporaryFailure as exc:
        log.warning("lookup for %s %s failed: %s", claim.kind.value, claim.outbound_id, exc.code)
        record_undecided(database, sms, claim, now, exc, summary)
        return None
    if found is None:
        resend = start_resend(database, provider.name, claim, now)
        if isinstance(resend, Claim):
            log.info("%s %s is not at the provider: sent again as %s", claim.kind.value, claim.outbound_id,
                     resend.outbound_id)
            return resend
        found = resend  # a late status report resolved it meanwhile
    log.info("%s %s was taken by the provider: not sent again", claim.kind.value, claim.outbound_id)
    record_sent(database, provider.name, claim, now, found, summary, sent_at=claim.since)
    summary.add("found_at_provider")
    return None


def _send_one(database: Database, settings: Settings, sms: SmsSettings, provider: SmsProvider,
              invitation_id: int, kind: MessageKind, now: datetime, summary: CycleSummary,
              fallback: SmsProvider | None = None, sent: list[tuple[str, Claim, SendResult]] | None = None,
              wordings: Wordings | None = None) -> bool:
    """Send one message; False when the provider could not be reached (the cycle then stops).

    ``fallback``: the SMS provider, when ``provider`` is Zalo; a Zalo refusal sends the invitation by it once.
    ``sent``: where a message the provider took is put, to be recorded with its batch (``record_sent_many``);
    without it, it is recorded at once."""
    claim = prepare(database, settings, sms, provider.name, invitation_id, kind, now, summary, wordings)
    if claim is not None and claim.unresolved and not provider.deduplicates_requests:
        claim = _reconcile(database, provider, claim, now, sms, summary)
    if claim is None:
        return True
    callback = sms.status_callback_for(claim.outbound_id) if provider.name == "twilio" else (
        callback_url(sms, secret_in_force(settings), claim.outbound_id) if provider.name == "http" else None)
    request_id = str(invitation_id) if provider.name == ZALO else f"sipas{invitation_id}{kind.value[0]}"
    try:
        result = provider.send(claim.phone, claim.body, status_callback=callback, request_id=request_id)
    except ZaloReschedule as exc:
        if record_rescheduled(database, settings, claim, now, exc, summary) and fallback is not None:
            return _send_one(database, settings, sms, fallback, invitation_id, kind, now, summary, sent=sent,
                                 wordings=wordings)
        return True
    except ZaloFallback as exc:
        log.info("invitation %s: Zalo refused (%s)", invitation_id, exc.code)
        if record_fallback(database, claim, now, exc, summary) and fallback is not None:
            return _send_one(database, settings, sms, fallback, invitation_id, kind, now, summary, sent=sent,
                                 wordings=wordings)
        return True
    except TemporaryFailure as exc:
        if exc.unreachable:
            log.warning("SMS provider unreachable (%s): cycle stopped, %s %s waits", exc.code, kind.value,
                        claim.outbound_id)
            record_unreachable(database, sms, claim, now, exc, summary)
            return False
        log.warning("%s %s for invitation %s failed: %s", kind.value, claim.outbound_id, invitation_id, exc.code)
        record_failure(database, sms, provider.name, claim, now, exc, summary)
        return True
    except PermanentFailure as exc:
        log.warning("%s %s for invitation %s failed: %s", kind.value, claim.outbound_id, invitation_id, exc.code)
        record_failure(database, sms, provider.name, claim, now, exc, summary)
        return True
    if sent is None:
        record_sent(database, provider.name, claim, now, result, summary)
    else:
        sent.append((provider.name, claim, result))
    return True


@dataclass(frozen=True)
class SmsOff:
    """Units that send no SMS (``options["sms"]["enabled"] = false``): their invitations go by Zalo or not at
    all, and they send no reminder (reminders are SMS). ``by_zalo``: those of them with a Zalo template."""

    units: frozenset[int] = frozenset()
    by_zalo: frozenset[int] = frozenset()


def sms_off_units(session: Session) -> SmsOff:
    off = [unit for unit in session.scalars(select(Unit)) if not sms_enabled(unit)]
    return SmsOff(frozenset(u.id for u in off), frozenset(u.id for u in off if unit_template_id(u) is not None))


def due_ids(session: Session, sms: SmsSettings, now: datetime, *, sms_off: SmsOff = SmsOff(),
            zalo: bool = True) -> tuple[list[int], list[int]]:
    """The invitations and the reminders due now, a batch of each. Without Zalo (``zalo`` false: not configured
    or not granted) the invitations of units that send by Zalo only wait (left out); the reminders of units
    without SMS are left out always (``send_claim.prepare`` gives up whatever else of theirs would go by SMS)."""
    retry_ok = (Invitation.next_attempt_at.is_(None)) | (Invitation.next_attempt_at <= now)
    stmt = (select(Invitation.id)
            .where(Invitation.status == InvitationStatus.PENDING, Invitation.due_at <= now,
                   Invitation.expires_at > now, retry_ok)
            .order_by(Invitation.due_at, Invitation.id).limit(BATCH))
    if not zalo and sms_off.by_zalo:
        stmt = stmt.where(Invitation.unit_id.not_in(sorted(sms_off.by_zalo)))
    invitations = list(session.scalars(stmt))
    no_sms = Invitation.unit_id.not_in(sorted(sms_off.units)) if sms_off.units else None
    reminders: list[int] = []
    if sms.reminder_after_hours:
        stmt = (select(Invitation.id)
                .where(Invitation.status.in_((InvitationStatus.SENT, InvitationStatus.DELIVERED)),
                       Invitation.reminder_sent_at.is_(None), Invitation.expires_at > now,
                       Invitation.sent_at <= now - timedelta(hours=sms.reminder_after_hours), retry_ok)
                .order_by(Invitation.sent_at, Invitation.id).limit(BATCH))
        reminders = list(session.scalars(stmt if no_sms is None else stmt.where(no_sms)))
    return invitations, reminders


def _waiting_for_zalo(session: Session, sms_off: SmsOff, now: datetime) -> int:
    """Invitations due now that wait for Zalo because their unit sends no SMS and Zalo is not there (counted for the
    cycle's summary)."""
    if not sms_off.by_zalo:
        return 0
    return session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.status == InvitationStatus.PENDING, Invitation.due_at <= now, Invitation.expires_at > now,
        Invitation.unit_id.in_(sorted(sms_off.by_zalo)))) or 0


def run_cycle(database: Database, settings: Settings, *, now: datetime, provider: SmsProvider | None = None,
              sms: SmsSettings | None = None, zalo: SmsProvider | None = None) -> CycleSummary:
    """One pass: bookkeeping, then (inside the allowed hours) invitations and reminders that are due.

    ``zalo``: the Zalo provider (built from the settings and the OA grant when not given); invitations of
    units with a Zalo template go through it first."""
    sms = sms or SmsSettings.from_settings(settings)
    summary = CycleSummary()
    with database.session() as session:
        done = bookkeeping(session, settings, sms, now=now)
    for key, value in vars(done).items():
        summary.add(key, value)
    if not in_window(now, sms, settings.tz):
        summary.add("quiet_hours")
        return summary
    provider = provider or build_provider(sms)
    zalo = zalo or build_zalo_provider(database, settings)
    with database.read_sessionmaker() as session:
        sms_off = sms_off_units(session)
        if zalo is None:
            summary.add("sms_off_waiting", _waiting_for_zalo(session, sms_off, now))
    # Batch after batch until nothing is due: 10,000 invitations due at 07:00 go out in this cycle, not
    # 200 a minute. Each message is still claimed on its own, so a second sender changes nothing.
    started = time.monotonic()
    deadline = started + CYCLE_BUDGET_SECONDS
    tried: set[tuple[int, MessageKind]] = set()
    zalo_down = False
    sent: list[tuple[str, Claim, SendResult]] = []  # taken by the provider, recorded once per batch
    wordings = Wordings()
    try:
        while time.monotonic() < deadline:
            with database.read_sessionmaker() as session:
                invitations, reminders = due_ids(session, sms, now, sms_off=sms_off, zalo=zalo is not None)
            due = [(i, MessageKind.INVITATION) for i in invitations] + [(i, MessageKind.REMINDER) for i in reminders]
            due = [item for item in due if item not in tried]  # one attempt per message and cycle
            if not due:
                break
            for invitation_id, kind in due:
                # the window closes during a cycle too (it sends for up to CYCLE_BUDGET_SECONDS): 22:00 is 22:00
                if not in_window(now + timedelta(seconds=time.monotonic() - started), sms, settings.tz):
                    summary.add("quiet_hours")
                    return summary
                tried.add((invitation_id, kind))
                chosen = route(database, settings, zalo, provider, invitation_id, kind, now, summary)
                if chosen is None or (zalo_down and chosen is zalo):
                    continue  # waits for the Zalo window, or for Zalo to be reachable again
                fallback = provider if chosen is not provider else None
                if not _send_one(database, settings, sms, chosen, invitation_id, kind, now, summary, fallback,
                                 sent=sent, wordings=wordings):
                    if chosen is zalo:
                        zalo_down = True  # the SMS invitations still go out
                        continue
                    return summary  # the provider is unreachable: one probe per cycle, the others wait untouched
                if time.monotonic() >= deadline:
                    break
            record_sent_many(database, sent, now, summary)
            sent.clear()
    finally:
        record_sent_many(database, sent, now, summary)  # what was taken before a stop, an error or the deadline
    return summary
