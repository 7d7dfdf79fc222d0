"""instrument version records

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-12-01 08:30:00

Versions already used by stored responses are recorded by ``sipas db upgrade`` right after the
migrations (sipas.instrument_records.record_existing), from the criterion files of that moment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0002'
down_revision: str | Sequence[str] | None = 'core_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('instrument_version_record',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('recorded_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', 'version', name=op.f('pk_instrument_version_record'))
    )


def downgrade() -> None:
    op.drop_table('instrument_version_record')
