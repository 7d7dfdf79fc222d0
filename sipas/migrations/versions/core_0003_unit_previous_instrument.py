"""unit: the kiosk form before the last change

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-01 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0003'
down_revision: str | Sequence[str] | None = 'core_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_instrument', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('instrument_changed_at', sipas.models.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('instrument_changed_at')
        batch_op.drop_column('previous_instrument')
