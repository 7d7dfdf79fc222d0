"""response.negative (the response has a dissatisfied answer), backfilled; the partial index
ix_response_follow_up over the responses that may need follow-up

Index 8 of a province's quarter read every response's answers to find the dissatisfied ones (11 s at
1 M responses on SQLite); the flag and the partial index let it read only the candidates (issue 14,
goal 2). The backfill applies the configured catalogue, as ``sipas.tally.rebuild`` does.

Revision ID: core_0018
Revises: core_0017
Create Date: 2026-12-05 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0018'
down_revision: str | Sequence[str] | None = 'core_0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOW_UP_CANDIDATE = "negative OR comment <> ''"  # as sipas.models.FOLLOW_UP_CANDIDATE on this day


def upgrade() -> None:
    op.add_column('response', sa.Column('negative', sa.Boolean(), server_default=sa.false(), nullable=False))
    from sipas.catalogue import load_catalogue
    from sipas.settings import Settings
    from sipas.tally import mark_negative

    settings = Settings.from_env()
    mark_negative(op.get_bind(), load_catalogue(settings.config_dir).dissatisfied_answers())
    op.create_index('ix_response_follow_up', 'response', ['unit_id', 'submitted_at'],
                    sqlite_where=sa.text(FOLLOW_UP_CANDIDATE), postgresql_where=sa.text(FOLLOW_UP_CANDIDATE))


def downgrade() -> None:
    op.drop_index('ix_response_follow_up', table_name='response')
    with op.batch_alter_table('response') as batch:
        batch.drop_column('negative')
