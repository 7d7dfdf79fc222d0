"""The invitation tally's pending changes (``sms_invitation_tally_change``, PostgreSQL): folded, and read with it.

On PostgreSQL the triggers of ``sms_invitation`` (``sms_0008``) insert a +1 / -1 row per side of each move instead
of upserting the shared tally row (unit, status, sent, delivered) in the writer's transaction, where writers of
several units locked those rows in opposite orders and deadlocked. ``fold`` moves the changes into the tally in one
statement (the SMS cycle's bookkeeping, every minute); ``rows`` is what a reader sums: the tally and the changes
not folded yet, in one statement, so one snapshot. On SQLite the triggers upsert directly (one writer at a time)
and the change table stays empty.
"""

from __future__ import annotations

from sqlalchemy import Subquery, select, text, union_all
from sqlalchemy.orm import Session

from sms_gateway.models import InvitationTally, invitation_tally_changes

_COLUMNS = "unit_id, status, sent, delivered, invitations"
_KEY = "unit_id, status, sent, delivered"
FOLD = (f"WITH moved AS (DELETE FROM sms_invitation_tally_change RETURNING {_COLUMNS})"
        f" INSERT INTO sms_invitation_tally ({_COLUMNS})"
        f" SELECT {_KEY}, SUM(invitations) FROM moved GROUP BY {_KEY} HAVING SUM(invitations) <> 0"
        f" ORDER BY {_KEY}"  # two folds at once lock the tally rows in one order
        f" ON CONFLICT ({_KEY}) DO UPDATE SET invitations = sms_invitation_tally.invitations + excluded.invitations")


def fold(session: Session) -> None:
    """Move the pending changes into the tally (the caller commits). A change committed while this runs is left
    for the next fold; a reader sees the changes either pending or folded, never both nor neither."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(FOLD))


def rows() -> Subquery:
    """(unit_id, status, sent, delivered, invitations): the tally's rows and the pending changes, to be summed."""
    changes = invitation_tally_changes.c
    return union_all(
        select(InvitationTally.unit_id, InvitationTally.status, InvitationTally.sent, InvitationTally.delivered,
               InvitationTally.invitations),
        select(changes.unit_id, changes.status, changes.sent, changes.delivered, changes.invitations),
    ).subquery("invitation_tally")
