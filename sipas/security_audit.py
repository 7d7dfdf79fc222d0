"""Account and security events in the audit log: who may see which (their sentences: sipas/audit_text.py).

``user.*`` and ``apikey.*`` events about accounts carry no unit (an account may span several), so the
audit page cannot filter them by unit: a global admin sees them all, a unit or district admin sees those
about accounts it manages (``sipas.account_policy``), clerks and leaders none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from sipas.account_policy import is_admin, is_global_admin, manageable_users
from sipas.models import AuditEvent, User


def action_starts_with(prefix: str) -> ColumnElement[bool]:
    """``action`` begins with ``prefix``, as a range of the codes (``action >= 'user.' AND action < 'user/'``):
    ``ix_audit_event_action`` serves it on both backends, where SQLite's case-insensitive ``LIKE 'user.%'`` read
    the whole log. Action codes are lower-case ASCII, so the range is the same rows; ``%`` or ``_`` typed in the
    filter are taken literally. A filter holding anything but printable ASCII selects nothing: no code holds it, and
    its last character plus one may be no character (after U+10FFFF) or one no driver encodes (a surrogate)."""
    if not prefix:
        return AuditEvent.action.is_not(None)
    if not (prefix.isascii() and prefix.isprintable()):
        return false()
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(AuditEvent.action >= prefix, AuditEvent.action < following)


def visible_filter(session: Session, viewer: User, unit_ids: list[int]) -> ColumnElement[bool]:
    """The audit rows ``viewer`` may see: its units' events, plus account events it is entitled to."""
    if is_global_admin(viewer):
        return or_(AuditEvent.unit_id.in_(unit_ids), AuditEvent.unit_id.is_(None))
    by_unit = AuditEvent.unit_id.in_(unit_ids)
    if not is_admin(viewer):
        return by_unit
    managed = [u.username for u in manageable_users(session, viewer)]
    about_accounts = and_(AuditEvent.unit_id.is_(None), action_starts_with("user."),
                          AuditEvent.subject.in_(managed)) if managed else false()
    return or_(by_unit, about_accounts)
