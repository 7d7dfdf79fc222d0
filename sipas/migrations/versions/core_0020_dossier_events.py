"""dossier.responses and dossier.negative_responses (replacing dossier_tally), dossier_event_tally and the
triggers on dossier that keep it; backfilled

The report's dossier figures read every dossier of the scope (2.5 s for a province at 1.1 M dossiers, issue
14, goal 2); they now read the dossiers' one-day events (``sipas.dossier_events``). The rating counts move
onto the dossier row so a trigger on that one table sees every change the events depend on.

Revision ID: core_0020
Revises: core_0018
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0020'
down_revision: str | Sequence[str] | None = 'core_0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from sipas.dossier_events import install_triggers, recount_dossiers

    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('responses', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('negative_responses', sa.Integer(), server_default='0', nullable=False))
    op.create_table('dossier_event_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('negative', sa.Boolean(), nullable=False),
    sa.Column('forms', sa.SmallInteger(), nullable=False),
    sa.Column('handling', sa.String(length=8), nullable=False),
    sa.Column('dossiers', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_dossier_event_tally_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_event_tally')),
    sa.UniqueConstraint('unit_id', 'grain', 'local_date', 'field', 'kind', 'online', 'negative', 'forms',
                        'handling', name='uq_dossier_event_tally_key')
    )
    bind = op.get_bind()
    # from response.negative (core_0018), then every dossier's events; response.follow_up comes with core_0021,
    # whose rebuild counts it (core_0025 for databases past it)
    recount_dossiers(bind, follow_up=False)
    install_triggers(bind, previous=True)  # the triggers of its time (core_0032 changed them)
    op.drop_table('dossier_tally')


def downgrade() -> None:
    from sipas.dossier_events import drop_triggers

    op.create_table('dossier_tally',
    sa.Column('dossier_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_dossier_tally_dossier_id_dossier'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dossier_id', name=op.f('pk_dossier_tally'))
    )
    op.execute("INSERT INTO dossier_tally (dossier_id, responses, negative) "
               "SELECT id, responses, negative_responses FROM dossier WHERE responses > 0")
    drop_triggers(op.get_bind())
    op.drop_table('dossier_event_tally')
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('negative_responses')
        batch.drop_column('responses')
