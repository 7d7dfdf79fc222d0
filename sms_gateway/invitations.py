"""Invitations: which returned dossiers get one, when it may go out, and closing the window.

Creating is idempotent (unique dossier + instrument + kind). Sending lives in ``sending.py``; this
module holds the bookkeeping each cycle does first: invitations answered through any channel, expired
ones, sends interrupted by a crash, and erasing phone numbers nobody needs any more.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import Delete, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.catalogue import Catalogue, load_catalogue
from sipas.clock import local_date
from sipas.models import Dossier, DossierContact, Response, Unit
from sipas.settings import Settings
from sms_gateway import tally_changes
from sms_gateway.links import issue_link
from sms_gateway.models import (
    OPEN_STATUSES,
    Conversation,
    InboundDelivery,
    InvalidNumber,
    Invitation,
    InvitationStatus,
)
from sms_gateway.optouts import is_opted_out
from sms_gateway.settings import SmsSettings, invites_all_dossiers, sms_enabled
from sms_gateway.zalo_settings import unit_template_id

log = logging.getLogger(__name__)
KIND = "sms"
INTERRUPTED_AFTER = timedelta(minutes=10)
DELIVERY_MEMORY = timedelta(days=30)  # Twilio retries a webhook for minutes, not weeks
CLOSED_STATUSES = (InvitationStatus.ANSWERED, InvitationStatus.EXPIRED, InvitationStatus.FAILED,
                   InvitationStatus.CANCELLED, InvitationStatus.OPTED_OUT)


def next_allowed(now: datetime, sms: SmsSettings, tz: tzinfo) -> datetime:
    """``now`` if it is inside the sending window (local time), else the window's next opening."""
    local = now.astimezone(tz)
    if sms.window_start <= local.time() < sms.window_end:
        return now
    day = local.date() if local.time() < sms.window_start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, sms.window_start, tzinfo=tz)
    return opening.astimezone(now.tzinfo)


def in_window(now: datetime, sms: SmsSettings, tz: tzinfo) -> bool:
    return next_allowed(now, sms, tz) == now


def candidates(session: Session, sms: SmsSettings, *, now: datetime) -> list[Dossier]:
    """Returned dossiers with a phone and recorded consent, not rated, not yet invited, and whose number
    no provider called invalid (such a dossier waits, so a corrected number is still invited)."""
    invited = exists().where(Invitation.dossier_id == Dossier.id, Invitation.kind == KIND)
    rated = exists().where(Response.dossier_id == Dossier.id)
    invalid = exists().where(InvalidNumber.phone_hash == DossierContact.phone_hash)
    rows = session.scalars(
        select(Dossier)
        .join(DossierContact, DossierContact.dossier_id == Dossier.id)
        .where(Dossier.returned_at.is_not(None), Dossier.returned_at > now - timedelta(days=sms.expiry_days),
               Dossier.returned_at <= now, DossierContact.sms_consent.is_(True),
               DossierContact.phone_e164.is_not(None), DossierContact.erased_at.is_(None), ~invited, ~rated,
               ~invalid)
        .order_by(Dossier.returned_at)
    ).all()
    units: dict[int, Unit] = {}
    chosen = []
    for dossier in rows:
        unit = units.setdefault(dossier.unit_id, dossier.unit)
        if not sms_enabled(unit) and unit_template_id(unit) is None:
            continue  # neither SMS nor Zalo
        if dossier.intake_channel.is_online or invites_all_dossiers(sms, unit):
            chosen.append(dossier)
    return chosen


SMS_FORM = "hue12"  # the form of SMS invitations (domain notes §2.1) when the unit's own does not fit a reply


@functools.lru_cache(maxsize=4)
def _catalogue(config_dir: Path) -> Catalogue:
    """The criteria files, read once per process (as the app reads them at start-up)."""
    return load_catalogue(config_dir)


def sms_form(catalogue: Catalogue, code: str | None, day: date) -> str:
    """The form an SMS invitation asks for: the unit's own when an SMS reply can answer every question of it as
    the reply texts describe (1 = Rất hài lòng, 2 = Hài lòng, 3 = Không hài lòng: three options on the
    satisfaction scale), else ``SMS_FORM``. A kiosk on quay4 (its questions 3 and 4 are not on that scale) made SMS
    replies store "không hài lòng" as "Phức tạp"."""
    try:
        form = catalogue.current(code or SMS_FORM, day)
    except LookupError:  # KeyError too: a form withdrawn from the files
        return SMS_FORM
    fits = all(c.satisfaction and len(c.options) == 3 for c in form.citizen_criteria)
    return form.code if fits else SMS_FORM


def create_invitation(session: Session, dossier: Dossier, sms: SmsSettings, *, now: datetime,
                      tz: tzinfo, catalogue: Catalogue) -> Invitation | None:
    """One invitation (and its short link) for a dossier; None if another process made it first."""
    contact = dossier.contact
    assert contact is not None
    instrument = sms_form(catalogue, dossier.unit.default_instrument, local_date(now, tz))
    expires_at = now + timedelta(days=sms.expiry_days)
    status = InvitationStatus.OPTED_OUT if is_opted_out(session, contact.phone_hash) else InvitationStatus.PENDING
    try:
        with session.begin_nested():
            link = issue_link(session, dossier, instrument_code=instrument, channel="sms", now=now,
                              expires_at=expires_at)
            invitation = Invitation(
                dossier_id=dossier.id, unit_id=dossier.unit_id, instrument_code=instrument, kind=KIND,
                status=status, phone_hash=contact.phone_hash, due_at=next_allowed(now, sms, tz),
                expires_at=expires_at, link_id=link.id, created_at=now, updated_at=now,
            )
            session.add(invitation)
            session.flush()
    except IntegrityError:
        return None
    log.info("invitation %s created for dossier %s (%s)", invitation.id, dossier.code, status)
    return invitation


def create_due_invitations(session: Session, sms: SmsSettings, *, now: datetime, tz: tzinfo,
                           catalogue: Catalogue) -> int:
    created = 0
    for dossier in candidates(session, sms, now=now):
        if create_invitation(session, dossier, sms, now=now, tz=tz, catalogue=catalogue) is not None:
            created += 1
    return created


def mark_answered(session: Session, *, now: datetime) -> int:
    """Open invitations whose dossier got a rating (SMS, link, kiosk, paper) are answered."""
    answered = 0
    rows = session.execute(  # any rating of the dossier counts, whatever the channel or instrument
        select(Invitation, Response)
        .join(Response, Response.dossier_id == Invitation.dossier_id)
        .where(Invitation.status.in_(OPEN_STATUSES), Invitation.status != InvitationStatus.SENDING)
        .order_by(Response.submitted_at)
    ).all()
    for invitation, response in rows:
        if invitation.status is InvitationStatus.ANSWERED:
            continue
        invitation.status = InvitationStatus.ANSWERED
        invitation.answered_at = response.submitted_at
        invitation.response_id = response.id
        invitation.updated_at = now
        answered += 1
    return answered


def expire(session: Session, *, now: datetime) -> int:
    result = session.execute(
        update(Invitation)
        .where(Invitation.status.in_(OPEN_STATUSES), Invitation.status != InvitationStatus.SENDING,
               Invitation.expires_at <= now)
        .values(status=InvitationStatus.EXPIRED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def fail_interrupted(session: Session, *, now: datetime) -> int:
    """A claim older than a few minutes means the process died around the provider call. Whether the
    message left is unknown, so it is never sent again (at most once): it is marked failed."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.status == InvitationStatus.SENDING, Invitation.claimed_at <= now - INTERRUPTED_AFTER)
        .values(status=InvitationStatus.FAILED, last_error_code="interrupted", updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase_closed_phones(session: Session, sms: SmsSettings, *, now: datetime) -> int:
    """Delete the phone number (keep the keyed hash) once no open invitation needs it: after its own
    invitation closed, or, for a dossier never invited, once its invitation window would have closed.

    ``erased_at`` is set as for an erasure on request: it is what makes a later import or API update
    leave the number out (``sipas.dossiers._apply_contact``), so the erasure lasts."""
    still_open = exists().where(Invitation.phone_hash == DossierContact.phone_hash,
                                Invitation.status.in_(OPEN_STATUSES))
    invited_closed = exists().where(Invitation.dossier_id == DossierContact.dossier_id,
                                    Invitation.status.in_(CLOSED_STATUSES))
    window_over = exists().where(Dossier.id == DossierContact.dossier_id, Dossier.returned_at.is_not(None),
                                 Dossier.returned_at <= now - timedelta(days=sms.expiry_days))
    contacts = session.scalars(
        select(DossierContact).where(DossierContact.phone_e164.is_not(None), invited_closed | window_over,
                                     ~still_open)
    ).all()
    for contact in contacts:
        contact.phone_e164, contact.erased_at = None, now
    if contacts:
        audit(session, "sms.phones_erased", actor="sms", count=len(contacts))
    return len(contacts)


def prune_statements(now: datetime) -> list[Delete]:
    """The prune's deletes; each finds its rows by an index (``sms_0006``): it runs every cycle, and the
    de-duplication rows hold 30 days of every reply and delivery report
    (``tests/sms_gateway/test_prune_indexes.py``)."""
    return [delete(Conversation).where(Conversation.expires_at <= now),
            delete(InboundDelivery).where(InboundDelivery.received_at <= now - DELIVERY_MEMORY)]


def prune(session: Session, *, now: datetime) -> None:
    """Forget finished conversations and webhook de-duplication rows once no retry can come."""
    for statement in prune_statements(now):
        session.execute(statement)


@dataclass
class Bookkeeping:
    created: int = 0
    answered: int = 0
    expired: int = 0
    interrupted: int = 0
    erased: int = 0


def bookkeeping(session: Session, settings: Settings, sms: SmsSettings, *, now: datetime) -> Bookkeeping:
    done = Bookkeeping()
    done.answered = mark_answered(session, now=now)
    done.interrupted = fail_interrupted(session, now=now)
    done.expired = expire(session, now=now)
    done.created = create_due_invitations(session, sms, now=now, tz=settings.tz,
                                          catalogue=_catalogue(settings.config_dir))
    session.flush()
    done.erased = erase_closed_phones(session, sms, now=now)
    prune(session, now=now)
    tally_changes.fold(session)  # last: the changes of this transaction's bulk updates too
    return done


def local_day_month(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d/%m")

