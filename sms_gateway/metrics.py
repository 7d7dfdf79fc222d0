"""SMS figures for ``GET /metrics``, counted from the invitation and message tables at scrape time.

*Fallen back* is an invitation whose SMS failed and whose dossier was then given a QR link (the printed
slip), the channel a ward falls back to when a number cannot be reached.

Only what never goes down is a counter: ``sent_at`` is never cleared and a delivered message never moves on.
Failed and fallen back are invitations *currently* failed, which a late status report turns into sent: they
are gauges (a counter that went down would read to Prometheus as a reset, and ``rate()`` as a burst).
"""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.prometheus import Family
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.models_links import LinkChannel, ShortLink


def _per_unit(session: Session, family: Family, *conditions) -> None:  # type: ignore[no-untyped-def]
    rows = session.execute(select(Unit.code, func.count()).select_from(Invitation)
                           .join(Unit, Unit.id == Invitation.unit_id)
                           .where(*conditions).group_by(Unit.code).order_by(Unit.code))
    for unit, count in rows:
        family.add({"unit": unit}, count)


def families(session: Session) -> list[Family]:
    sent = Family("sipas_invitations_sent_total", "counter", "SMS invitations handed to the provider.")
    delivered = Family("sipas_invitations_delivered_total", "counter",
                       "SMS invitations the provider reported delivered.")
    failed = Family("sipas_invitations_failed", "gauge",
                    "SMS invitations now failed (could not be sent or delivered; a late report may resolve one).")
    fallen_back = Family("sipas_invitations_fallen_back", "gauge",
                         "SMS invitations now failed whose dossier was then given a QR link.")
    by_status = Family("sipas_invitations", "gauge", "SMS invitations by unit and current status.")
    _per_unit(session, sent, Invitation.sent_at.is_not(None))
    _per_unit(session, delivered, exists().where(OutboundMessage.invitation_id == Invitation.id,
                                                 OutboundMessage.kind == MessageKind.INVITATION,
                                                 OutboundMessage.status == MessageStatus.DELIVERED))
    _per_unit(session, failed, Invitation.status == InvitationStatus.FAILED)
    _per_unit(session, fallen_back, Invitation.status == InvitationStatus.FAILED,
              exists().where(ShortLink.dossier_id == Invitation.dossier_id, ShortLink.channel == LinkChannel.QR))
    rows = session.execute(select(Unit.code, Invitation.status, func.count()).select_from(Invitation)
                           .join(Unit, Unit.id == Invitation.unit_id)
                           .group_by(Unit.code, Invitation.status).order_by(Unit.code, Invitation.status))
    for unit, status, count in rows:
        by_status.add({"unit": unit, "status": str(status)}, count)
    return [sent, delivered, failed, fallen_back, by_status]
