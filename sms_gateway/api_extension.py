"""Each dossier's SMS invitations in ``GET /api/v1/dossiers/<code>`` (status, short link, times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.models import Dossier
from sms_gateway.links import link_url
from sms_gateway.models import Invitation
from sms_gateway.models_links import ShortLink


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(current_app.extensions["sipas_settings"].tz).isoformat()


def invitations_json(session: Session, dossier: Dossier) -> dict[str, Any]:
    settings = current_app.extensions["sipas_settings"]
    invitations = session.scalars(select(Invitation).where(Invitation.dossier_id == dossier.id)
                                  .order_by(Invitation.id)).all()
    items = []
    for invitation in invitations:
        link = session.get(ShortLink, invitation.link_id) if invitation.link_id else None
        items.append({
            "status": str(invitation.status),
            "instrument": invitation.instrument_code,
            "short_link": link_url(settings, link) if link is not None else None,
            "created_at": _iso(invitation.created_at),
            "due_at": _iso(invitation.due_at),
            "sent_at": _iso(invitation.sent_at),
            "reminder_sent_at": _iso(invitation.reminder_sent_at),
            "expires_at": _iso(invitation.expires_at),
            "answered_at": _iso(invitation.answered_at),
        })
    return {"invitations": items}
