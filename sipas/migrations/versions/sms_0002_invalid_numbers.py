"""numbers that cannot receive SMS; reminder attempts

Revision ID: sms_0002
Revises: sms_0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'sms_0002'
down_revision: str | Sequence[str] | None = 'sms_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_invalid_number',
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('marked_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone_hash', name=op.f('pk_sms_invalid_number'))
    )
    with op.batch_alter_table('sms_invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sms_invitation', schema=None) as batch_op:
        batch_op.drop_column('reminder_attempts')
    op.drop_table('sms_invalid_number')
