"""Zalo service-rating submissions (instrument zalo5), apart from the 12 criteria

Revision ID: sms_0004
Revises: sms_0003
Create Date: 2026-12-04 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'sms_0004'
down_revision: str | Sequence[str] | None = 'sms_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('zalo_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('msg_id', sa.String(length=64), nullable=False),
    sa.Column('instrument_code', sa.String(length=64), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('rate', sa.Integer(), nullable=False),
    sa.Column('feedbacks', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('submitted_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('correction_of', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['correction_of'], ['zalo_rating.id'], name=op.f('fk_zalo_rating_correction_of_zalo_rating')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_zalo_rating_dossier_id_dossier'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['sms_invitation.id'],
                            name=op.f('fk_zalo_rating_invitation_id_sms_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_zalo_rating_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zalo_rating')),
    sa.UniqueConstraint('msg_id', 'submitted_at', name=op.f('uq_zalo_rating_msg_id_submitted_at'))
    )
    with op.batch_alter_table('zalo_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zalo_rating_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_zalo_rating_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zalo_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zalo_rating_unit_id'))
        batch_op.drop_index(batch_op.f('ix_zalo_rating_dossier_id'))
    op.drop_table('zalo_rating')
