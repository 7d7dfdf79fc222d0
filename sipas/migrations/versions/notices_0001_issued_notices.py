"""issued notices

Revision ID: notices_0001
Revises: core_0001
Create Date: 2026-11-22 04:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'notices_0001'
down_revision: str | Sequence[str] | None = 'core_0001'
branch_labels: str | Sequence[str] | None = ('notices',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('docx', sa.LargeBinary(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['corrects_id'], ['notice.id'], name=op.f('fk_notice_corrects_id_notice')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_notice_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('unit_id', 'year', 'number', name=op.f('uq_notice_unit_id_year_number'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_unit_id'))
    op.drop_table('notice')
