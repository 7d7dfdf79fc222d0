"""kiosk devices report the ratings the server refused for good

Revision ID: kiosk_0002
Revises: kiosk_0001
Create Date: 2026-12-01 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'kiosk_0002'
down_revision: str | Sequence[str] | None = 'kiosk_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_column('rejected_count')
