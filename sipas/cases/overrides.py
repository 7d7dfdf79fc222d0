"""The reason kept with a hand-entered index 8 (the staff entry overrides the value computed from cases)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sipas.cases.models import Index8OverrideReason


def index8_reason(session: Session, unit_id: int, year: int, quarter: int) -> str | None:
    row = session.get(Index8OverrideReason, (unit_id, year, quarter))
    return row.reason if row else None


def set_index8_reason(session: Session, unit_id: int, year: int, quarter: int, reason: str | None, *, actor: str,
                      now: datetime) -> None:
    """Keep the reason of the quarter's override, or drop it when the override is removed (``None``)."""
    row = session.get(Index8OverrideReason, (unit_id, year, quarter))
    if reason is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(Index8OverrideReason(unit_id=unit_id, year=year, quarter=quarter, reason=reason, actor=actor,
                                         at=now))
    else:
        row.reason, row.actor, row.at = reason, actor, now
