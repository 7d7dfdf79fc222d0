"""Console to-do item of the SMS channel: dossiers returned recently, not rated and not invited at all.

Such a dossier gets no SMS (no phone, no consent, or a unit that invites only online dossiers): the clerk
can still hand over a slip with the QR of the phone form, which is where the link goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from flask import current_app, url_for
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from sipas.models import Dossier, Response, Unit
from sipas.todo import TodoItem
from sms_gateway.models import Invitation


def returned_not_invited_counts(unit_ids: Sequence[int], now: datetime, days: int) -> Select[tuple[int, int]]:
    """The dossiers of each unit returned in the last ``days`` days, neither invited nor rated: read through
    ``ix_dossier_unit_returned``, the days asked for of each unit only."""
    invited = exists().where(Invitation.dossier_id == Dossier.id)
    rated = exists().where(Response.dossier_id == Dossier.id)
    return (select(Dossier.unit_id, func.count(Dossier.id))
            .where(Dossier.unit_id.in_(list(unit_ids)), Dossier.returned_at.is_not(None),
                   Dossier.returned_at > now - timedelta(days=days), Dossier.returned_at <= now, ~invited, ~rated)
            .group_by(Dossier.unit_id))


def returned_not_invited(session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo) -> list[TodoItem]:
    days = current_app.extensions["sms_settings"].expiry_days
    counts = {int(u): int(n) for u, n in session.execute(returned_not_invited_counts([u.id for u in units], now, days))}
    return [TodoItem(f"Hồ sơ đã trả kết quả trong {days} ngày qua, chưa được mời đánh giá", int(counts.get(u.id, 0)),
                     url_for("sms_console.slips_form", unit_code=u.code), u) for u in units]
