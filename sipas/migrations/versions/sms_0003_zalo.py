"""Zalo channel: the OA token pair, console notices, the fallback mark of an invitation

Revision ID: sms_0003
Revises: sms_0002
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'sms_0003'
down_revision: str | Sequence[str] | None = 'sms_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('zalo_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('failure', sa.String(length=200), nullable=True),
    sa.Column('failed_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zalo_account'))
    )
    op.create_table('zalo_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zalo_notice'))
    )
    with op.batch_alter_table('zalo_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zalo_notice_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_zalo_notice_kind'), ['kind'], unique=False)
    with op.batch_alter_table('sms_invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zalo_fallback', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sms_invitation', schema=None) as batch_op:
        batch_op.drop_column('zalo_fallback')
    with op.batch_alter_table('zalo_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zalo_notice_kind'))
        batch_op.drop_index(batch_op.f('ix_zalo_notice_created_at'))
    op.drop_table('zalo_notice')
    op.drop_table('zalo_account')
