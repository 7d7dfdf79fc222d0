"""response.follow_up (a case by its content) and response_tally.follow_up; every tally recounted

Index 8 of a province's quarter read 69 k comments at 1 M responses to tell which ask for action (issue 14,
goal 2); the flag is set when the response is stored and counted per local day, so index 8 reads the tally.
The backfill is ``sipas.tally.rebuild`` (the tallies, both flags, the dossier counts and events) with the
configured catalogue and time zone, the same as ``sipas db retally``; it also fills the tallies created by
``core_0014`` on a database that comes from before it.

Revision ID: core_0021
Revises: core_0020
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0021'
down_revision: str | Sequence[str] | None = 'core_0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.add_column(sa.Column('follow_up', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('response_tally') as batch:
        batch.add_column(sa.Column('follow_up', sa.Integer(), server_default='0', nullable=False))
    from sipas.catalogue import load_catalogue
    from sipas.settings import Settings
    from sipas.tally import rebuild

    settings = Settings.from_env()
    rebuild(op.get_bind(), load_catalogue(settings.config_dir).dissatisfied_answers(), settings.tz)


def downgrade() -> None:
    with op.batch_alter_table('response_tally') as batch:
        batch.drop_column('follow_up')
    with op.batch_alter_table('response') as batch:
        batch.drop_column('follow_up')
