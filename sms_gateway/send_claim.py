"""Before the provider is called: the checks, the claim (committed) and the outbound row the attempt
writes to. An earlier attempt whose outcome is unknown (an UNKNOWN row without a sid, to the same
number) is handed back instead of a new row, so it is reconciled before anything is sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from sipas.models import Dossier, Unit
from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.cycle_summary import CycleSummary
from sms_gateway.invalid_numbers import is_invalid
from sms_gateway.invitations import local_day_month, next_allowed
from sms_gateway.links import issue_link, link_url
from sms_gateway.messages import new_outbound, template_text
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.models_links import LinkChannel, ShortLink
from sms_gateway.optouts import is_opted_out
from sms_gateway.settings import SmsSettings, sms_enabled
from sms_gateway.templates_text import Fitted, fit_message
from sms_gateway.zalo_message import zalo_message

log = logging.getLogger(__name__)
TOO_LONG = "too_long"  # the message exceeds SIPAS_SMS_MAX_SEGMENTS even with the unit name shortened


@dataclass(frozen=True)
class Claim:
    invitation_id: int
    kind: MessageKind
    outbound_id: int
    phone: str
    body: str
    unresolved: bool = False  # the row is an earlier attempt whose outcome is unknown
    since: datetime | None = None  # that attempt's claim time


def daily_cap_lifted(recent: list[datetime], sms: SmsSettings) -> datetime | None:
    """When a number that got ``recent`` messages (oldest first, the last 24 hours) may get one more; None: now."""
    return recent[-sms.daily_cap] + timedelta(hours=24) if len(recent) >= sms.daily_cap else None


def sent_last_24h(session: Session, phone_hash: str, now: datetime, *, excluding: int | None = None) -> list[datetime]:
    query = (select(OutboundMessage.created_at)
             .where(OutboundMessage.to_hash == phone_hash, OutboundMessage.created_at > now - timedelta(hours=24),
                    OutboundMessage.status != MessageStatus.FAILED)
             .order_by(OutboundMessage.created_at))
    if excluding is not None:
        query = query.where(OutboundMessage.id != excluding)
    return list(session.scalars(query))


def unresolved_outbound(session: Session, invitation: Invitation, kind: MessageKind) -> OutboundMessage | None:
    """The earlier attempt of this message whose outcome is unknown, if any.

    A message never claimed has none: every outbound row is written by a claim, which counts an attempt, and an
    attempt is only given back (``record_unreachable``, a Zalo fallback) with its row marked failed. So the query
    is skipped while the attempts are 0, i.e. for nearly every message of a 07:00 cycle."""
    if (invitation.attempts if kind is MessageKind.INVITATION else invitation.reminder_attempts) == 0:
        return None
    return session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.invitation_id == invitation.id, OutboundMessage.kind == kind,
               OutboundMessage.to_hash == (invitation.phone_hash or ""),
               OutboundMessage.status == MessageStatus.UNKNOWN, OutboundMessage.sid.is_(None))
        .order_by(OutboundMessage.id.desc()).limit(1)).first()


class Wordings:
    """The units' SMS wordings, each read once per cycle: a 07:00 cycle sends thousands of messages of a few
    units. A wording a clerk changes during a cycle is used from the next cycle, a minute later at most."""

    def __init__(self) -> None:
        self._texts: dict[tuple[int, str], str] = {}

    def text(self, session: Session, unit_id: int, kind: MessageKind) -> str:
        key = (unit_id, kind.value)
        if key not in self._texts:
            self._texts[key] = template_text(session, unit_id, kind.value)
        return self._texts[key]


def message_body(session: Session, settings: Settings, sms: SmsSettings, invitation: Invitation, kind: MessageKind,
                 now: datetime, wordings: Wordings | None = None) -> Fitted:
    """The unit's wording with the real values, within ``SIPAS_SMS_MAX_SEGMENTS`` if it can be."""
    dossier = invitation.dossier
    link = session.get(ShortLink, invitation.link_id) if invitation.link_id else None
    if link is None or not link.is_open(now) or link.channel is not LinkChannel.SMS:  # not a Zalo invitation's
        link = issue_link(session, dossier, instrument_code=invitation.instrument_code, channel="sms", now=now,
                          expires_at=invitation.expires_at)
        invitation.link_id = link.id
    # the dossier's unit is loaded with the invitation (``prepare``); an invitation always has its dossier's unit
    unit = dossier.unit if dossier.unit_id == invitation.unit_id else session.get(Unit, invitation.unit_id)
    assert unit is not None
    values = {"don_vi": unit.name, "ma_ho_so": dossier.code, "link": link_url(settings, link),
              "brandname": sms.brandname, "han": local_day_month(invitation.expires_at, settings.tz)}
    text = (wordings or Wordings()).text(session, unit.id, kind)
    return fit_message(text, values, max_segments=sms.max_segments,
                       brandname=sms.brandname)


def _claim(session: Session, invitation: Invitation, kind: MessageKind, now: datetime) -> bool:
    if kind is MessageKind.INVITATION:
        statement = (update(Invitation)
                     .where(Invitation.id == invitation.id, Invitation.status == InvitationStatus.PENDING)
                     .values(status=InvitationStatus.SENDING, claimed_at=now, attempts=Invitation.attempts + 1,
                             updated_at=now))
    else:
        statement = (update(Invitation)
                     .where(Invitation.id == invitation.id, Invitation.reminder_sent_at.is_(None),
                            Invitation.status.in_((InvitationStatus.SENT, InvitationStatus.DELIVERED)))
                     .values(reminder_sent_at=now, reminder_attempts=Invitation.reminder_attempts + 1,
                             updated_at=now))
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def _skip(invitation: Invitation, kind: MessageKind, status: InvitationStatus, now: datetime,
          error_code: str | None = None) -> None:
    """An invitation that will not go out is closed; a reminder that will not is never retried."""
    if kind is MessageKind.INVITATION:
        invitation.status = status
    else:
        invitation.next_attempt_at = invitation.expires_at
    if error_code:
        invitation.last_error_code = error_code
    invitation.updated_at = now


def prepare(database: Database, settings: Settings, sms: SmsSettings, provider: str, invitation_id: int,
            kind: MessageKind, now: datetime, summary: CycleSummary, wordings: Wordings | None = None) -> Claim | None:
    """Checks and claim, committed; None when there is nothing to send. ``wordings``: the cycle's (see there)."""
    with database.session() as session:
        # the dossier, its contact and its unit with the invitation, in one query (were three loads per message)
        invitation = session.get(Invitation, invitation_id,
                                 options=[joinedload(Invitation.dossier).joinedload(Dossier.contact),
                                          joinedload(Invitation.dossier).joinedload(Dossier.unit)])
        if invitation is None:
            return None
        contact = invitation.dossier.contact
        if contact is None or not contact.phone_e164 or not contact.sms_consent:
            _skip(invitation, kind, InvitationStatus.CANCELLED, now)  # no message without a number and consent
            summary.add("cancelled_no_consent")
            return None
        if provider != "zalo" and not sms_enabled(invitation.dossier.unit):
            # the unit sends no SMS (``sending.due_ids`` keeps most of these away): an invitation Zalo cannot carry
            # is given up, a reminder is never sent
            _skip(invitation, kind, InvitationStatus.FAILED, now, "sms_disabled")
            summary.add("sms_disabled")
            return None
        if contact.phone_hash and contact.phone_hash != invitation.phone_hash:
            invitation.phone_hash = contact.phone_hash  # the number was corrected since the invitation was made
        if is_opted_out(session, invitation.phone_hash):
            invitation.status, invitation.updated_at = InvitationStatus.OPTED_OUT, now
            summary.add("opted_out")
            return None
        if is_invalid(session, invitation.phone_hash):
            _skip(invitation, kind, InvitationStatus.FAILED, now, "invalid_number")
            summary.add("invalid_number")
            return None
        earlier = unresolved_outbound(session, invitation, kind)
        recent = sent_last_24h(session, invitation.phone_hash or "", now,
                               excluding=earlier.id if earlier is not None else None)
        lifted = daily_cap_lifted(recent, sms)
        if lifted is not None:
            later = next_allowed(lifted, sms, settings.tz)
            if kind is MessageKind.INVITATION:
                invitation.due_at = later
            else:
                invitation.next_attempt_at = later
            summary.add("deferred_daily_cap")
            return None
        if earlier is not None:
            body = earlier.body  # the same text as the attempt being reconciled
        else:
            fitted = (zalo_message(session, settings, sms, invitation, kind, now) if provider == "zalo"
                      else message_body(session, settings, sms, invitation, kind, now, wordings))
            if not fitted.fits:
                log.warning("%s of invitation %s not sent: %s characters (%s) need %s segments, the limit is %s",
                            kind.value, invitation.id, fitted.info.characters, fitted.info.encoding,
                            fitted.info.segments, sms.max_segments)
                _skip(invitation, kind, InvitationStatus.FAILED, now, TOO_LONG)
                summary.add(TOO_LONG)
                return None
            if fitted.shortened:
                log.info("%s of invitation %s sent with the unit name shortened to fit", kind.value, invitation.id)
            body = fitted.text
        if not _claim(session, invitation, kind, now):
            return None
        if earlier is not None:
            return Claim(invitation.id, kind, earlier.id, contact.phone_e164, earlier.body, unresolved=True,
                         since=earlier.created_at)
        outbound = new_outbound(session, provider, kind, phone=contact.phone_e164,
                                phone_hash=invitation.phone_hash or "", body=body, now=now,
                                invitation_id=invitation.id, unit_id=invitation.unit_id)
        return Claim(invitation.id, kind, outbound.id, contact.phone_e164, body)
