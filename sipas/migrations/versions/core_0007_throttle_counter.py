"""throttle_counter: attempts per key and time window, counted atomically

Revision ID: core_0007
Revises: core_0011
Create Date: 2026-12-04 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0007'
down_revision: str | Sequence[str] | None = 'core_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('throttle_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'bucket', name=op.f('pk_throttle_counter'))
    )


def downgrade() -> None:
    op.drop_table('throttle_counter')
