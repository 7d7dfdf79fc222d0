"""throttle_counter.expires: when a counter's window ends, so an hourly job purges ended windows

Rows of keys that never came back (one per client address) were kept for ever. Rows written before this
revision get 0 and are purged by the first run: their windows are at most a day long, so at worst a
limit in progress at the upgrade starts again from zero.

Revision ID: core_0017
Revises: core_0014
Create Date: 2026-12-05 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0017'
down_revision: str | Sequence[str] | None = 'core_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_throttle_counter_expires'), ['expires'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counter_expires'))
        batch_op.drop_column('expires')
