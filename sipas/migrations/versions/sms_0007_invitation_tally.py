"""sms_invitation_tally: invitations per unit, status, sent and delivered, kept by triggers for GET /metrics

``GET /metrics`` counted every invitation ever made at each Prometheus scrape (4.9-6.6 s per scrape after two
years of a province). The tally is kept by database triggers, so every write counts: ORM flushes, the bulk
``UPDATE``s of the claim, the opt-out and the expiry, and the cascade when a dossier is deleted. Backfilled here.
``sms_invitation.delivered_messages`` counts the invitation's delivered invitation messages (``sms_outbound``,
kept by triggers there too): "delivered" is that count above 0.

Revision ID: sms_0007
Revises: sms_0006
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'sms_0007'
down_revision: str | Sequence[str] | None = 'sms_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANGED = ("OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.status IS DISTINCT FROM NEW.status"
            " OR (OLD.sent_at IS NULL) <> (NEW.sent_at IS NULL)"
            " OR (OLD.delivered_messages > 0) <> (NEW.delivered_messages > 0)")
_ADD = ("INSERT INTO sms_invitation_tally (unit_id, status, sent, delivered, invitations)"
        " VALUES (NEW.unit_id, NEW.status, NEW.sent_at IS NOT NULL, NEW.delivered_messages > 0, 1)"
        " ON CONFLICT (unit_id, status, sent, delivered)"
        " DO UPDATE SET invitations = sms_invitation_tally.invitations + 1;")
_REMOVE = ("UPDATE sms_invitation_tally SET invitations = invitations - 1"
           " WHERE unit_id = OLD.unit_id AND status = OLD.status AND sent = (OLD.sent_at IS NOT NULL)"
           " AND delivered = (OLD.delivered_messages > 0);")
# An invitation message the provider reported delivered, before (OLD) or after (NEW) a write of sms_outbound.
_COUNTED = "{row}.kind = 'invitation' AND {row}.status = 'delivered' AND {row}.invitation_id IS NOT NULL"
_MESSAGE_ADD = ("UPDATE sms_invitation SET delivered_messages = delivered_messages + 1"
                " WHERE id = NEW.invitation_id;")
_MESSAGE_REMOVE = ("UPDATE sms_invitation SET delivered_messages = delivered_messages - 1"
                   " WHERE id = OLD.invitation_id;")
_MESSAGE_CHANGED = ("OLD.kind IS DISTINCT FROM NEW.kind OR OLD.status IS DISTINCT FROM NEW.status"
                    " OR OLD.invitation_id IS DISTINCT FROM NEW.invitation_id")

_POSTGRESQL = [
    f"""CREATE FUNCTION sms_invitation_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {_REMOVE} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_ADD} END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER sms_invitation_tally_insert_delete AFTER INSERT OR DELETE ON sms_invitation"
    " FOR EACH ROW EXECUTE FUNCTION sms_invitation_tally_keep()",
    "CREATE TRIGGER sms_invitation_tally_update"
    " AFTER UPDATE OF unit_id, status, sent_at, delivered_messages ON sms_invitation"
    f" FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION sms_invitation_tally_keep()",
    f"""CREATE FUNCTION sms_outbound_delivered_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND {_COUNTED.format(row="OLD")} THEN {_MESSAGE_REMOVE} END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND {_COUNTED.format(row="NEW")} THEN {_MESSAGE_ADD} END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER sms_outbound_delivered_insert_delete AFTER INSERT OR DELETE ON sms_outbound"
    " FOR EACH ROW EXECUTE FUNCTION sms_outbound_delivered_keep()",
    "CREATE TRIGGER sms_outbound_delivered_update AFTER UPDATE OF kind, status, invitation_id ON sms_outbound"
    f" FOR EACH ROW WHEN ({_MESSAGE_CHANGED}) EXECUTE FUNCTION sms_outbound_delivered_keep()",
]
_SQLITE = [
    f"CREATE TRIGGER sms_invitation_tally_insert AFTER INSERT ON sms_invitation BEGIN {_ADD} END",
    f"CREATE TRIGGER sms_invitation_tally_delete AFTER DELETE ON sms_invitation BEGIN {_REMOVE} END",
    "CREATE TRIGGER sms_invitation_tally_update"
    " AFTER UPDATE OF unit_id, status, sent_at, delivered_messages ON sms_invitation"
    f" WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {_REMOVE} {_ADD} END",
    f"CREATE TRIGGER sms_outbound_delivered_insert AFTER INSERT ON sms_outbound"
    f" WHEN {_COUNTED.format(row='NEW')} BEGIN {_MESSAGE_ADD} END",
    f"CREATE TRIGGER sms_outbound_delivered_delete AFTER DELETE ON sms_outbound"
    f" WHEN {_COUNTED.format(row='OLD')} BEGIN {_MESSAGE_REMOVE} END",
    "CREATE TRIGGER sms_outbound_delivered_update_old AFTER UPDATE OF kind, status, invitation_id ON sms_outbound"
    f" WHEN ({_MESSAGE_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}) AND {_COUNTED.format(row='OLD')}"
    f" BEGIN {_MESSAGE_REMOVE} END",
    "CREATE TRIGGER sms_outbound_delivered_update_new AFTER UPDATE OF kind, status, invitation_id ON sms_outbound"
    f" WHEN ({_MESSAGE_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}) AND {_COUNTED.format(row='NEW')}"
    f" BEGIN {_MESSAGE_ADD} END",
]


def upgrade() -> None:
    with op.batch_alter_table('sms_invitation') as batch:
        batch.add_column(sa.Column('delivered_messages', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE sms_invitation SET delivered_messages = (SELECT COUNT(*) FROM sms_outbound"
               " WHERE sms_outbound.invitation_id = sms_invitation.id AND sms_outbound.kind = 'invitation'"
               " AND sms_outbound.status = 'delivered') WHERE id IN (SELECT invitation_id FROM sms_outbound"
               " WHERE kind = 'invitation' AND status = 'delivered')")
    op.create_table(
        'sms_invitation_tally',
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('sent', sa.Boolean(), nullable=False),
        sa.Column('delivered', sa.Boolean(), nullable=False),
        sa.Column('invitations', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('unit_id', 'status', 'sent', 'delivered'),
    )
    op.execute("INSERT INTO sms_invitation_tally (unit_id, status, sent, delivered, invitations)"
               " SELECT unit_id, status, sent_at IS NOT NULL, delivered_messages > 0, COUNT(*) FROM sms_invitation"
               " GROUP BY unit_id, status, sent_at IS NOT NULL, delivered_messages > 0")
    for statement in (_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sms_outbound_delivered_update ON sms_outbound")
        op.execute("DROP TRIGGER sms_outbound_delivered_insert_delete ON sms_outbound")
        op.execute("DROP FUNCTION sms_outbound_delivered_keep()")
        op.execute("DROP TRIGGER sms_invitation_tally_update ON sms_invitation")
        op.execute("DROP TRIGGER sms_invitation_tally_insert_delete ON sms_invitation")
        op.execute("DROP FUNCTION sms_invitation_tally_keep()")
    else:
        for name in ("update_new", "update_old", "delete", "insert"):
            op.execute(f"DROP TRIGGER sms_outbound_delivered_{name}")
        for name in ("update", "delete", "insert"):
            op.execute(f"DROP TRIGGER sms_invitation_tally_{name}")
    op.drop_table('sms_invitation_tally')
    with op.batch_alter_table('sms_invitation') as batch:
        batch.drop_column('delivered_messages')
