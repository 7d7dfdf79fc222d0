"""import_staging: imports stage validated rows, then swap them in with one short transaction

Revision ID: core_0012
Revises: core_0007
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0012'
down_revision: str | Sequence[str] | None = 'core_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_staging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_import_staging_job_id_import_job'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_import_staging_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_staging'))
    )
    with op.batch_alter_table('import_staging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_staging_token'), ['token'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_staging_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_staging_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('import_staging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_staging_created_at'))
        batch_op.drop_index(batch_op.f('ix_import_staging_job_id'))
        batch_op.drop_index(batch_op.f('ix_import_staging_token'))
    op.drop_table('import_staging')
