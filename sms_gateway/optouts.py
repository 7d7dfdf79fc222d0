"""Opt-outs by keyed phone hash: a number that said TC/HUY/STOP (or that Twilio reports as
unsubscribed, error 21610) gets no more messages until it sends BATDAU/START."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms_gateway.models import OPEN_STATUSES, Invitation, InvitationStatus, OptOut


def is_opted_out(session: Session, phone_hash: str | None) -> bool:
    if not phone_hash:
        return False
    row = session.get(OptOut, phone_hash)
    return row is not None and row.active


def opt_out(session: Session, phone_hash: str, *, now: datetime, source: str) -> int:
    """Record the opt-out and close every open invitation of that number; returns how many closed."""
    row = session.get(OptOut, phone_hash)
    if row is None:
        session.add(OptOut(phone_hash=phone_hash, opted_out_at=now, source=source))
    elif not row.active:
        row.opted_out_at, row.source = now, source
    result = session.execute(
        update(Invitation)
        .where(Invitation.phone_hash == phone_hash, Invitation.status.in_(OPEN_STATUSES),
               Invitation.status != InvitationStatus.SENDING)
        .values(status=InvitationStatus.OPTED_OUT, updated_at=now)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def opt_in(session: Session, phone_hash: str, *, now: datetime) -> bool:
    """Messages may be sent again; invitations closed by the opt-out stay closed."""
    row = session.get(OptOut, phone_hash)
    if row is None or not row.active:
        return False
    row.opted_in_at = now
    session.flush()
    return True


def opted_out_hashes(session: Session, hashes: list[str]) -> set[str]:
    rows = session.scalars(select(OptOut).where(OptOut.phone_hash.in_(hashes))).all() if hashes else []
    return {row.phone_hash for row in rows if row.active}
