"""kiosk devices report their clock with each heartbeat; the offset is kept for sipas doctor

Revision ID: core_0009
Revises: kiosk_0002
Create Date: 2026-12-04 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0009'
down_revision: str | Sequence[str] | None = 'kiosk_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock_offset_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_column('clock_offset_seconds')
