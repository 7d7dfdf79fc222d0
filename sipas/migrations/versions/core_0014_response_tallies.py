"""answer_tally, response_tally, dossier_tally: counts kept beside the responses, backfilled; an index
covering the report's pass over the dossiers, one for a unit's latest comments

The reports read these instead of every answer (issue 14, goal 2). They are filled by ``core_0021``, which
recounts the stored responses with the configured catalogue (which options are "dissatisfied") and time zone
(local days), the same ``sipas.tally.rebuild`` that ``sipas db retally`` runs.

Revision ID: core_0014
Revises: core_0012
Create Date: 2026-12-04 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0014'
down_revision: str | Sequence[str] | None = 'core_0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = sa.Enum('kiosk', 'qr', 'sms', 'api', 'paper', name='responsechannel', native_enum=False,
                  create_constraint=False, length=16)


def upgrade() -> None:
    op.create_table('answer_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('instrument_code', sa.String(length=64), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('channel', CHANNEL, nullable=False),
    sa.Column('criterion_code', sa.String(length=64), nullable=False),
    sa.Column('option_code', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_answer_tally_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_tally')),
    sa.UniqueConstraint('unit_id', 'grain', 'local_date', 'instrument_code', 'instrument_version', 'channel',
                        'criterion_code', 'option_code', name='uq_answer_tally_key')
    )
    op.create_table('response_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('instrument_code', sa.String(length=64), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('channel', CHANNEL, nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_response_tally_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_tally')),
    sa.UniqueConstraint('unit_id', 'grain', 'local_date', 'instrument_code', 'instrument_version', 'channel',
                        name='uq_response_tally_key')
    )
    op.create_table('dossier_tally',
    sa.Column('dossier_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_dossier_tally_dossier_id_dossier'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dossier_id', name=op.f('pk_dossier_tally'))
    )
    op.create_index('ix_dossier_report_scan', 'dossier', ['unit_id', 'received_local_date', 'returned_local_date',
                                                          'due_local_date', 'intake_channel', 'field'])
    op.create_index('ix_response_unit_submitted', 'response', ['unit_id', 'submitted_at'])
    # filled by core_0021 (sipas.tally.rebuild), once every column the code of the day writes exists


def downgrade() -> None:
    op.drop_index('ix_response_unit_submitted', table_name='response')
    op.drop_index('ix_dossier_report_scan', table_name='dossier')
    op.drop_table('dossier_tally')
    op.drop_table('response_tally')
    op.drop_table('answer_tally')
