"""dossier_staging: drop ``unreturn``, a flag the swap no longer reads

The swap's conflict check for a dossier that the file un-returns reads the staged return date itself
(``sipas.imports.dossier_swap``), so the flag was written for every staged row and read by nothing. Staged rows
live for one import only; the column goes without a copy.

Revision ID: core_0026
Revises: core_0025
Create Date: 2026-12-07 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0026'
down_revision: str | Sequence[str] | None = 'core_0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dossier_staging', schema=None) as batch_op:
        batch_op.drop_column('unreturn')


def downgrade() -> None:
    with op.batch_alter_table('dossier_staging', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreturn', sa.Boolean(), nullable=False, server_default=sa.false()))
