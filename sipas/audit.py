"""The audit log: who did what to which subject. Never pass phone numbers or free-text answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sipas.models import AuditEvent, Unit


def audit(
    session: Session,
    action: str,
    *,
    actor: str,
    unit: Unit | None = None,
    subject: str | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor,
        unit_id=unit.id if unit is not None else None,
        subject=subject,
        details=details,
    )
    session.add(event)
    return event
