"""Kiosk figures for ``GET /metrics``: the offline queue each paired kiosk reported at its last heartbeat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.models import KioskDevice
from sipas.models import Unit
from sipas.prometheus import Family


def families(session: Session) -> list[Family]:
    queued = Family("sipas_kiosk_queue_length", "gauge",
                    "Ratings waiting in the kiosk's browser, as its last heartbeat reported.")
    rejected = Family("sipas_kiosk_rejected_count", "gauge",
                      "Ratings the server refused for good, kept aside on the kiosk for a technician.")
    rows = session.execute(select(Unit.code, KioskDevice.public_id, KioskDevice.queued_count,
                                  KioskDevice.rejected_count)
                           .select_from(KioskDevice).join(Unit, Unit.id == KioskDevice.unit_id)
                           .where(KioskDevice.paired_at.is_not(None), KioskDevice.revoked_at.is_(None))
                           .order_by(Unit.code, KioskDevice.public_id))
    for unit, kiosk, queue, refused in rows:
        queued.add({"unit": unit, "kiosk": kiosk}, queue or 0)
        rejected.add({"unit": unit, "kiosk": kiosk}, refused or 0)
    return [queued, rejected]
