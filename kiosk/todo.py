"""Console to-do items of the kiosk channel: paired kiosks not heard from, ratings the server refused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kiosk.console import ONLINE_WITHIN
from kiosk.models import KioskDevice
from sipas.models import Unit
from sipas.todo import TodoItem

WORKERS = ("admin", "clerk")  # the kiosk page is not a leader's


def kiosk_items(session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo) -> list[TodoItem]:
    d = KioskDevice
    paired = (d.unit_id.in_([u.id for u in units]), d.paired_at.is_not(None), d.revoked_at.is_(None))
    offline = {int(u): int(n) for u, n in session.execute(
        select(d.unit_id, func.count(d.id)).where(*paired, or_(d.last_contact_at.is_(None),
                                                               d.last_contact_at < now - ONLINE_WITHIN))
        .group_by(d.unit_id))}
    refused = {int(u): int(n) for u, n in session.execute(
        select(d.unit_id, func.coalesce(func.sum(d.rejected_count), 0)).where(*paired).group_by(d.unit_id))}
    items = []
    for unit in units:
        link = url_for("kiosk_console.index", unit=unit.code)
        items.append(TodoItem("Kiosk mất kết nối", int(offline.get(unit.id, 0)), link, unit, roles=WORKERS))
        items.append(TodoItem("Phiếu đánh giá bị máy chủ từ chối, kiosk đang giữ lại", int(refused.get(unit.id, 0)),
                              link, unit, roles=WORKERS))
    return items
