"""ballot_batch, ballot_line: paper ballots keyed at the counter (single or double entry)

Revision ID: core_0016
Revises: core_0007
Create Date: 2026-12-04 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0016'
down_revision: str | Sequence[str] | None = 'core_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ballot_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('instrument_code', sa.String(length=64), nullable=False),
    sa.Column('batch_date', sa.Date(), nullable=False),
    sa.Column('handed_out', sa.Integer(), nullable=False),
    sa.Column('double_entry', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_clerk', sa.String(length=200), nullable=False),
    sa.Column('second_clerk', sa.String(length=200), nullable=True),
    sa.Column('first_done', sa.Boolean(), nullable=False),
    sa.Column('second_done', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_ballot_batch_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_batch'))
    )
    with op.batch_alter_table('ballot_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_batch_unit_id'), ['unit_id'], unique=False)

    op.create_table('ballot_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('dossier_code', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('submit_key', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('entered_by', sa.String(length=200), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['ballot_batch.id'], name=op.f('fk_ballot_line_batch_id_ballot_batch'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_ballot_line_response_id_response'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_line')),
    sa.UniqueConstraint('batch_id', 'entry', 'position', name=op.f('uq_ballot_line_batch_id_entry_position')),
    sa.UniqueConstraint('batch_id', 'entry', 'submit_key', name=op.f('uq_ballot_line_batch_id_entry_submit_key'))
    )
    with op.batch_alter_table('ballot_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_line_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ballot_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_line_batch_id'))
    op.drop_table('ballot_line')
    with op.batch_alter_table('ballot_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_batch_unit_id'))
    op.drop_table('ballot_batch')
