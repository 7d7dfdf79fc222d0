"""sms_invitation_tally_change: on PostgreSQL the invitation tally's triggers insert changes, folded later

``sms_0007``'s triggers upserted ``sms_invitation_tally`` in each writer's transaction, one row per (unit, status,
sent, delivered): a transaction that moves invitations of several units (the cycle's batch record, a second
sender's, the bookkeeping's bulk updates) locked those shared rows in the order of its invitations, and two of
them in opposite orders deadlocked (tests/sms_gateway/test_tally_contention.py); every status report of a unit
queued behind a batch holding that unit's rows. On PostgreSQL the triggers now insert one change row (+1 / -1)
per side of a move into this table, which has no key and no index, so a writer locks no row but its own
invitation's. The SMS cycle's bookkeeping folds the changes into the tally (``sms_gateway.tally_changes.fold``)
and ``GET /metrics`` sums both (one statement: one snapshot). SQLite, with one writer at a time, keeps the direct
upserts; its change table stays empty.

Revision ID: sms_0008
Revises: sms_0007
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'sms_0008'
down_revision: str | Sequence[str] | None = 'sms_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "unit_id, status, sent, delivered, invitations"
_KEY = "unit_id, status, sent, delivered"
_CHANGE = ("INSERT INTO sms_invitation_tally_change (" + _COLUMNS + ")"
           " VALUES ({row}.unit_id, {row}.status, {row}.sent_at IS NOT NULL, {row}.delivered_messages > 0, {sign});")
_FUNCTION = """CREATE OR REPLACE FUNCTION sms_invitation_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {add} END IF;
    RETURN NULL;
END $$"""
# sms_0007's statements, for the downgrade
_UPSERT = ("INSERT INTO sms_invitation_tally (unit_id, status, sent, delivered, invitations)"
           " VALUES (NEW.unit_id, NEW.status, NEW.sent_at IS NOT NULL, NEW.delivered_messages > 0, 1)"
           " ON CONFLICT (unit_id, status, sent, delivered)"
           " DO UPDATE SET invitations = sms_invitation_tally.invitations + 1;")
_DECREMENT = ("UPDATE sms_invitation_tally SET invitations = invitations - 1"
              " WHERE unit_id = OLD.unit_id AND status = OLD.status AND sent = (OLD.sent_at IS NOT NULL)"
              " AND delivered = (OLD.delivered_messages > 0);")
# sms_gateway.tally_changes.FOLD, as of this revision
_FOLD = (f"WITH moved AS (DELETE FROM sms_invitation_tally_change RETURNING {_COLUMNS})"
         f" INSERT INTO sms_invitation_tally ({_COLUMNS})"
         f" SELECT {_KEY}, SUM(invitations) FROM moved GROUP BY {_KEY} HAVING SUM(invitations) <> 0"
         f" ORDER BY {_KEY}"
         f" ON CONFLICT ({_KEY}) DO UPDATE SET invitations = sms_invitation_tally.invitations + excluded.invitations")


def upgrade() -> None:
    op.create_table(
        'sms_invitation_tally_change',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('sent', sa.Boolean(), nullable=False),
        sa.Column('delivered', sa.Boolean(), nullable=False),
        sa.Column('invitations', sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION.format(remove=_CHANGE.format(row="OLD", sign=-1), add=_CHANGE.format(row="NEW", sign=1)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE sms_invitation IN SHARE ROW EXCLUSIVE MODE")  # no change between the fold and the swap
        op.execute(_FUNCTION.format(remove=_DECREMENT, add=_UPSERT))
        op.execute(_FOLD)
    op.drop_table('sms_invitation_tally_change')
