"""The send step of the invitation cycle, for a given ``now``.

Each message is claimed in its own committed transaction (``UPDATE … WHERE status = 'pending'``, or
``reminder_sent_at IS NULL`` for a reminder) before the provider is called, and its outcome is
written in another. A second process, or the same one after a crash, can therefore never send the
same invitation twice. The daily cap counts every message to the number over the last 24 hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.invalid_numbers import is_invalid, mark_invalid
from sms_gateway.invitations import bookkeeping, in_window, local_day_month, next_allowed
from sms_gateway.links import issue_link, link_url
from sms_gateway.messages import new_outbound, outcome_status, template_text
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.models_links import ShortLink
from sms_gateway.optouts import is_opted_out, opt_out
from sms_gateway.providers import PermanentFailure, SmsProvider, TemporaryFailure, build_provider
from sms_gateway.settings import SmsSettings
from sms_gateway.templates_text import render

log = logging.getLogger(__name__)
BATCH = 200
LABELS_VI = {
    "created": "tạo lời mời", "answered": "đã được đánh giá", "expired": "hết hạn", "interrupted": "bị gián đoạn",
    "erased": "xóa số điện thoại", "invitation_sent": "đã gửi tin mời", "reminder_sent": "đã gửi tin nhắc",
    "temporary_failure": "lỗi tạm thời (sẽ gửi lại)", "permanent_failure": "lỗi không gửi được",
    "opted_out": "đã từ chối nhận tin", "deferred_daily_cap": "hoãn do đủ số tin trong 24 giờ",
    "cancelled_no_consent": "bỏ qua do không còn số hoặc đồng ý",
    "invalid_number": "bỏ qua do số điện thoại không nhận được tin nhắn",
}


@dataclass
class CycleSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing to do"

    def describe(self) -> str:
        """The summary in Vietnamese, for the operator running ``sipas send-due``."""
        parts = [f"{LABELS_VI.get(k, k)}: {v}" for k, v in self.counts.items() if k != "quiet_hours"]
        if "quiet_hours" in self.counts:
            parts.append("ngoài khung giờ được gửi, không gửi tin nào")
        return "; ".join(parts) or "không có việc gì"


def sent_last_24h(session: Session, phone_hash: str, now: datetime) -> list[datetime]:
    return list(session.scalars(
        select(OutboundMessage.created_at)
        .where(OutboundMessage.to_hash == phone_hash, OutboundMessage.created_at > now - timedelta(hours=24),
               OutboundMessage.status != MessageStatus.FAILED)
        .order_by(OutboundMessage.created_at)
    ))


def _body(session: Session, settings: Settings, sms: SmsSettings, invitation: Invitation, kind: MessageKind,
          now: datetime) -> str:
    dossier = invitation.dossier
    link = session.get(ShortLink, invitation.link_id) if invitation.link_id else None
    if link is None or not link.is_open(now):
        link = issue_link(session, dossier, instrument_code=invitation.instrument_code, channel="sms", now=now,
                          expires_at=invitation.expires_at)
        invitation.link_id = link.id
    unit = session.get(Unit, invitation.unit_id)
    assert unit is not None
    values = {"don_vi": unit.name, "ma_ho_so": dossier.code, "link": link_url(settings, link),
              "brandname": sms.brandname, "han": local_day_month(invitation.expires_at, settings.tz)}
    return render(template_text(session, unit.id, kind.value), values)


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
                     .values(reminder_sent_at=now, updated_at=now))
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def _prepare(database: Database, settings: Settings, sms: SmsSettings, provider: str, invitation_id: int,
             kind: MessageKind, now: datetime, summary: CycleSummary) -> tuple[int, str, str] | None:
    """Checks and claim, committed: returns (outbound id, phone, body) or None when nothing to send."""
    with database.session() as session:
        invitation = session.get(Invitation, invitation_id)
        if invitation is None:
            return None
        contact = invitation.dossier.contact
        if contact is None or not contact.phone_e164 or not contact.sms_consent:
            if kind is MessageKind.INVITATION:
                invitation.status, invitation.updated_at = InvitationStatus.CANCELLED, now
            else:
                invitation.next_attempt_at = invitation.expires_at  # no reminder without a number and consent
            summary.add("cancelled_no_consent")
            return None
        if contact.phone_hash and contact.phone_hash != invitation.phone_hash:
            invitation.phone_hash = contact.phone_hash  # the number was corrected since the invitation was made
        if is_opted_out(session, invitation.phone_hash):
            invitation.status, invitation.updated_at = InvitationStatus.OPTED_OUT, now
            summary.add("opted_out")
            return None
        if is_invalid(session, invitation.phone_hash):
            if kind is MessageKind.INVITATION:
                invitation.status, invitation.last_error_code = InvitationStatus.FAILED, "invalid_number"
            else:
                invitation.next_attempt_at = invitation.expires_at
            invitation.updated_at = now
            summary.add("invalid_number")
            return None
        recent = sent_last_24h(session, invitation.phone_hash or "", now)
        if len(recent) >= sms.daily_cap:
            later = next_allowed(recent[-sms.daily_cap] + timedelta(hours=24), sms, settings.tz)
            if kind is MessageKind.INVITATION:
                invitation.due_at = later
            else:
                invitation.next_attempt_at = later
            summary.add("deferred_daily_cap")
            return None
        body = _body(session, settings, sms, invitation, kind, now)
        if not _claim(session, invitation, kind, now):
            return None
        outbound = new_outbound(session, provider, kind, phone=contact.phone_e164,
                                phone_hash=invitation.phone_hash or "", body=body, now=now,
                                invitation_id=invitation.id, unit_id=invitation.unit_id)
        return outbound.id, contact.phone_e164, body


def _record(database: Database, sms: SmsSettings, provider: str, invitation_id: int, outbound_id: int,
            kind: MessageKind,
            now: datetime, error: Exception | None, sid: str | None, status: str | None,
            summary: CycleSummary) -> None:
    with database.session() as session:
        invitation = session.get(Invitation, invitation_id)
        outbound = session.get(OutboundMessage, outbound_id)
        assert invitation is not None and outbound is not None
        outbound.updated_at = invitation.updated_at = now
        if error is None:
            outbound.sid, outbound.status = sid, outcome_status(status)
            if kind is MessageKind.INVITATION:
                invitation.status, invitation.sent_at, invitation.provider_sid = InvitationStatus.SENT, now, sid
                invitation.provider = provider
            invitation.next_attempt_at = None
            summary.add(f"{kind.value}_sent")
            return
        code = getattr(error, "code", "error")
        outbound.error_code = invitation.last_error_code = code
        if isinstance(error, TemporaryFailure):
            outbound.status = MessageStatus.UNKNOWN if code == "network" else MessageStatus.FAILED
            delay = timedelta(seconds=sms.retry_base_seconds * 2 ** max(invitation.attempts - 1, 0))
            invitation.next_attempt_at = now + delay
            if kind is MessageKind.INVITATION:
                exhausted = invitation.attempts >= sms.max_attempts
                invitation.status = InvitationStatus.FAILED if exhausted else InvitationStatus.PENDING
            else:
                invitation.reminder_sent_at = None  # the claim is released: retried after the delay
            summary.add("temporary_failure")
            return
        outbound.status = MessageStatus.FAILED
        if isinstance(error, PermanentFailure) and error.opted_out and invitation.phone_hash:
            invitation.status = InvitationStatus.OPTED_OUT
            opt_out(session, invitation.phone_hash, now=now, source="provider")
            summary.add("opted_out")
            return
        if kind is MessageKind.INVITATION:
            invitation.status = InvitationStatus.FAILED
        if isinstance(error, PermanentFailure) and error.invalid_number and invitation.phone_hash:
            mark_invalid(session, invitation.phone_hash, now=now, error_code=code, provider=provider)
        summary.add("permanent_failure")


def _send_one(database: Database, settings: Settings, sms: SmsSettings, provider: SmsProvider,
              invitation_id: int, kind: MessageKind, now: datetime, summary: CycleSummary) -> None:
    prepared = _prepare(database, settings, sms, provider.name, invitation_id, kind, now, summary)
    if prepared is None:
        return
    outbound_id, phone, body = prepared
    error: Exception | None = None
    sid = status = None
    try:
        result = provider.send(phone, body, status_callback=sms.status_callback_url if provider.name == "twilio"
                               else None, request_id=f"sipas{invitation_id}{kind.value[0]}")
        sid, status = result.sid, result.status
    except (PermanentFailure, TemporaryFailure) as exc:
        error = exc
        log.warning("%s %s for invitation %s failed: %s", kind.value, outbound_id, invitation_id, exc.code)
    _record(database, sms, provider.name, invitation_id, outbound_id, kind, now, error, sid, status, summary)


def due_ids(session: Session, sms: SmsSettings, now: datetime) -> tuple[list[int], list[int]]:
    retry_ok = (Invitation.next_attempt_at.is_(None)) | (Invitation.next_attempt_at <= now)
    invitations = list(session.scalars(
        select(Invitation.id)
        .where(Invitation.status == InvitationStatus.PENDING, Invitation.due_at <= now, Invitation.expires_at > now,
               retry_ok)
        .order_by(Invitation.due_at, Invitation.id).limit(BATCH)))
    reminders: list[int] = []
    if sms.reminder_after_hours:
        reminders = list(session.scalars(
            select(Invitation.id)
            .where(Invitation.status.in_((InvitationStatus.SENT, InvitationStatus.DELIVERED)),
                   Invitation.reminder_sent_at.is_(None), Invitation.expires_at > now,
                   Invitation.sent_at <= now - timedelta(hours=sms.reminder_after_hours), retry_ok)
            .order_by(Invitation.sent_at, Invitation.id).limit(BATCH)))
    return invitations, reminders


def run_cycle(database: Database, settings: Settings, *, now: datetime, provider: SmsProvider | None = None,
              sms: SmsSettings | None = None) -> CycleSummary:
    """One pass: bookkeeping, then (inside the allowed hours) invitations and reminders that are due."""
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
    with database.read_sessionmaker() as session:
        invitations, reminders = due_ids(session, sms, now)
    for invitation_id in invitations:
        _send_one(database, settings, sms, provider, invitation_id, MessageKind.INVITATION, now, summary)
    for invitation_id in reminders:
        _send_one(database, settings, sms, provider, invitation_id, MessageKind.REMINDER, now, summary)
    return summary

