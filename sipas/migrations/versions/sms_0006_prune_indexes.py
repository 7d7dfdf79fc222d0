"""Index sms_inbound_delivery.received_at and sms_conversation.expires_at: the SMS cycle's prune deletes by them

The prune runs in every SMS cycle (every minute) and read both tables in full: the webhook de-duplication rows
keep 30 days of every reply and delivery report (about two million rows at a province's volume).

Revision ID: sms_0006
Revises: sms_0005
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'sms_0006'
down_revision: str | Sequence[str] | None = 'sms_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_sms_inbound_delivery_received_at', 'sms_inbound_delivery', ['received_at'], unique=False)
    op.create_index('ix_sms_conversation_expires_at', 'sms_conversation', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sms_conversation_expires_at', table_name='sms_conversation')
    op.drop_index('ix_sms_inbound_delivery_received_at', table_name='sms_inbound_delivery')
