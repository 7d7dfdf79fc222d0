"""SMS figures for ``GET /metrics``, read at scrape time.

Sent, delivered, failed and by status sum ``sms_invitation_tally`` (kept by triggers, ``sms_0007``) and, on
PostgreSQL, its changes not folded yet (``sms_0008``, ``tally_changes.rows``): a few rows per unit, however many
invitations years have made, and the last minute's changes. Fallen back reads the failed invitations by the
status index.

*Fallen back* is an invitation whose SMS failed and whose dossier was then given a QR link (the printed
slip), the channel a ward falls back to when a number cannot be reached.

Only what never goes down is a counter: ``sent_at`` is never cleared and a delivered message never moves on.
Failed and fallen back are invitations *currently* failed, which a late status report turns into sent: they
are gauges (a counter that went down would read to Prometheus as a reset, and ``rate()`` as a burst).
"""

from __future__ import annotations

from sqlalchemy import Subquery, exists, func, select
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.prometheus import Family
from sms_gateway import tally_changes
from sms_gateway.models import Invitation, InvitationStatus
from sms_gateway.models_links import LinkChannel, ShortLink


def _per_unit(session: Session, family: Family, *conditions) -> None:  # type: ignore[no-untyped-def]
    rows = session.execute(select(Unit.code, func.count()).select_from(Invitation)
                           .join(Unit, Unit.id == Invitation.unit_id)
                           .where(*conditions).group_by(Unit.code).order_by(Unit.code))
    for unit, count in rows:
        family.add({"unit": unit}, count)


def _tallied(session: Session, family: Family, tally: Subquery, *conditions) -> None:  # type: ignore[no-untyped-def]
    total = func.sum(tally.c.invitations)
    rows = session.execute(select(Unit.code, total).select_from(tally)
                           .join(Unit, Unit.id == tally.c.unit_id)
                           .where(*conditions).group_by(Unit.code).having(total > 0).order_by(Unit.code))
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
    tally = tally_changes.rows()
    _tallied(session, sent, tally, tally.c.sent.is_(True))
    _tallied(session, delivered, tally, tally.c.delivered.is_(True))
    _tallied(session, failed, tally, tally.c.status == str(InvitationStatus.FAILED))
    _per_unit(session, fallen_back, Invitation.status == InvitationStatus.FAILED,
              exists().where(ShortLink.dossier_id == Invitation.dossier_id, ShortLink.channel == LinkChannel.QR))
    total = func.sum(tally.c.invitations)
    rows = session.execute(select(Unit.code, tally.c.status, total).select_from(tally)
                           .join(Unit, Unit.id == tally.c.unit_id)
                           .group_by(Unit.code, tally.c.status).having(total > 0)
                           .order_by(Unit.code, tally.c.status))
    for unit, status, count in rows:
        by_status.add({"unit": unit, "status": status}, count)
    return [sent, delivered, failed, fallen_back, by_status]
