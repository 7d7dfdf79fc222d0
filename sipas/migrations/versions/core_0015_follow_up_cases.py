"""follow_up_case, follow_up_case_event, index8_override_reason

Index 8 is now computed from the follow-up cases; an index 8 entered before this revision stays as an
override, with a reason saying so, so published scores do not change. The aggregator's table may not
exist yet on a new database (another branch): then there is nothing to carry.

Revision ID: core_0015
Revises: core_0016
Create Date: 2026-12-04 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0015'
down_revision: str | Sequence[str] | None = 'core_0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRIED_REASON = "Nhập tay trước khi chỉ số 8 được tính từ phản ánh."


def upgrade() -> None:
    op.create_table('follow_up_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'in_progress', 'answered', 'closed', name='casestatus',
                                native_enum=False, create_constraint=False, length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_local_date', sa.Date(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('contact_made', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('answered_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_local_date', sa.Date(), nullable=True),
    sa.Column('closed_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'],
                            name=op.f('fk_follow_up_case_assignee_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_follow_up_case_response_id_response'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_follow_up_case_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_case')),
    sa.UniqueConstraint('response_id', name=op.f('uq_follow_up_case_response_id'))
    )
    with op.batch_alter_table('follow_up_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_case_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_case_unit_id'), ['unit_id'], unique=False)
    op.create_table('follow_up_case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['follow_up_case.id'],
                            name=op.f('fk_follow_up_case_event_case_id_follow_up_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_case_event'))
    )
    with op.batch_alter_table('follow_up_case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_case_event_case_id'), ['case_id'], unique=False)
    op.create_table('index8_override_reason',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('quarter', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_index8_override_reason_unit_id_unit'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', 'quarter', name=op.f('pk_index8_override_reason'))
    )
    if sa.inspect(op.get_bind()).has_table('aggregator_quarter_input'):
        op.execute(sa.text(
            "INSERT INTO index8_override_reason (unit_id, year, quarter, reason, actor, at) "
            "SELECT unit_id, year, quarter, :reason, 'migration', CURRENT_TIMESTAMP FROM aggregator_quarter_input "
            "WHERE index8_option IS NOT NULL").bindparams(reason=CARRIED_REASON))


def downgrade() -> None:
    op.drop_table('index8_override_reason')
    with op.batch_alter_table('follow_up_case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_case_event_case_id'))
    op.drop_table('follow_up_case_event')
    with op.batch_alter_table('follow_up_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_case_unit_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_case_status'))
        batch_op.drop_index(batch_op.f('ix_follow_up_case_assignee_id'))
    op.drop_table('follow_up_case')
