"""Zalo as the first channel of an invitation: which messages go through it, their template data, and
what a refusal does (fall back to SMS once, or wait for the next opening of the Zalo window).

Only invitations go through Zalo (reminders stay SMS), for units with an approved template
(``options["zalo"]``), while the invitation has not fallen back. Outside the Zalo window (08:00–21:00
by default; Zalo itself refuses 22:00–06:00) such an invitation waits rather than switch channel.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.settings import Settings
from sipas.storage import Database
from sms_gateway.cycle_summary import CycleSummary
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.models_zalo import ZaloNotice
from sms_gateway.providers.base import SmsProvider
from sms_gateway.providers.zalo import ZaloClient, ZaloFallback, ZaloProvider, ZaloReschedule
from sms_gateway.send_claim import Claim
from sms_gateway.settings import sms_enabled
from sms_gateway.zalo_settings import ZaloSettings, unit_template_id
from sms_gateway.zalo_tokens import DatabaseTokens, token_state

log = logging.getLogger(__name__)
ZALO = "zalo"
ALERT_EVERY = timedelta(hours=1)  # the same alert is noted at most once an hour


def build_zalo_provider(database: Database, settings: Settings) -> ZaloProvider | None:
    """The provider when the app is configured and an OA grant exists; None otherwise (all SMS)."""
    zalo = ZaloSettings.from_settings(settings)
    if not zalo.configured:
        return None
    with database.read_sessionmaker() as session:
        if token_state(session) is None:
            return None
    client = ZaloClient(zalo)
    return ZaloProvider(client, DatabaseTokens(database, zalo, client))


def window_opening(now: datetime, zalo: ZaloSettings, tz: tzinfo, *, tomorrow: bool = False) -> datetime:
    """``now`` inside the Zalo window; else (or with ``tomorrow``) the window's next opening."""
    local = now.astimezone(tz)
    if not tomorrow and zalo.window_start <= local.time() < zalo.window_end:
        return now
    day = local.date() if local.time() < zalo.window_start and not tomorrow else local.date() + timedelta(days=1)
    return datetime.combine(day, zalo.window_start, tzinfo=tz).astimezone(now.tzinfo)


def goes_by_zalo(invitation: Invitation, unit: Unit, kind: MessageKind) -> bool:
    return (kind is MessageKind.INVITATION and invitation.zalo_fallback is None
            and unit_template_id(unit) is not None)


def route(database: Database, settings: Settings, zalo: ZaloProvider | None, sms_provider: SmsProvider,
          invitation_id: int, kind: MessageKind, now: datetime, summary: CycleSummary) -> SmsProvider | None:
    """The provider for this message (Zalo or the SMS provider), or None when it waits for the Zalo window."""
    if zalo is None:
        return sms_provider
    with database.session() as session:
        invitation = session.get(Invitation, invitation_id)
        unit = session.get(Unit, invitation.unit_id) if invitation is not None else None
        if invitation is None or unit is None or not goes_by_zalo(invitation, unit, kind):
            return sms_provider
        opening = window_opening(now, ZaloSettings.from_settings(settings), settings.tz)
        if opening == now:
            return zalo
        invitation.next_attempt_at, invitation.updated_at = opening, now
    summary.add("zalo_window")
    return None


def note_alert(session: Session, message: str, now: datetime, kind: str = "alert") -> None:
    """A console notice, unless the same one was noted within the last hour."""
    recent = session.scalar(select(ZaloNotice.id).where(ZaloNotice.kind == kind, ZaloNotice.message == message,
                                                        ZaloNotice.created_at > now - ALERT_EVERY))
    if recent is None:
        session.add(ZaloNotice(kind=kind, message=message, created_at=now))


def _close_zalo_row(session: Session, claim: Claim, code: str, now: datetime) -> Invitation:
    invitation = session.get(Invitation, claim.invitation_id)
    outbound = session.get(OutboundMessage, claim.outbound_id)
    assert invitation is not None and outbound is not None
    outbound.status, outbound.error_code, outbound.updated_at = MessageStatus.FAILED, code, now
    invitation.last_error_code, invitation.updated_at = code, now
    invitation.attempts = max(invitation.attempts - 1, 0)  # the SMS gets the full number of attempts
    return invitation


def record_fallback(database: Database, claim: Claim, now: datetime, error: ZaloFallback,
                    summary: CycleSummary) -> bool:
    """Zalo refused: the invitation goes back to pending, marked to go by SMS (once, never Zalo again).
    False when the unit sends no SMS: the invitation then fails."""
    with database.session() as session:
        invitation = _close_zalo_row(session, claim, error.code, now)
        invitation.zalo_fallback, invitation.next_attempt_at = error.code, None
        if error.alert:
            note_alert(session, f"Zalo: {error.detail or error.code} ({error.code}); lời mời chuyển sang SMS.", now)
        unit = session.get(Unit, invitation.unit_id)
        if unit is None or not sms_enabled(unit):
            invitation.status = InvitationStatus.FAILED
            summary.add("zalo_failed_no_sms")
            return False
        invitation.status = InvitationStatus.PENDING
    log.info("invitation %s fell back from Zalo to SMS (%s)", claim.invitation_id, error.code)
    summary.add("zalo_fell_back")
    return True


def record_rescheduled(database: Database, settings: Settings, claim: Claim, now: datetime, error: ZaloReschedule,
                       summary: CycleSummary) -> bool:
    """A quota or the night ban: the invitation waits for the next opening of the Zalo window (not an attempt).
    When that opening is after the invitation closes it falls back to SMS instead: True (send the SMS now)."""
    zalo = ZaloSettings.from_settings(settings)
    later = window_opening(now, zalo, settings.tz, tomorrow=not error.night)
    if later <= now:  # the night ban although our clock says the window is open: the next opening
        later = window_opening(now, zalo, settings.tz, tomorrow=True)
    with database.session() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        assert invitation is not None
        if later >= invitation.expires_at:
            fits = False
        else:
            fits = True
            invitation = _close_zalo_row(session, claim, error.code, now)
            invitation.status, invitation.next_attempt_at = InvitationStatus.PENDING, later
            if not error.night:
                note_alert(session, f"Zalo: {error.detail} ({error.code}); lời mời gửi lại lúc mở khung giờ sau.",
                           now, kind="quota")
    if not fits:
        return record_fallback(database, claim, now, ZaloFallback(error.code, error.detail), summary)
    summary.add("zalo_rescheduled")
    return False
