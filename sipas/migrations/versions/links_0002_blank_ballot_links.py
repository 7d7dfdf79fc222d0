"""short links without a dossier (printed on blank ballots)

Revision ID: links_0002
Revises: links_0001
Create Date: 2026-12-05 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'links_0002'
down_revision: str | Sequence[str] | None = 'links_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('short_link', schema=None) as batch_op:
        batch_op.alter_column('dossier_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Blank-ballot links cannot exist without the column being nullable: they are dropped on the way down.
    op.execute("DELETE FROM short_link WHERE dossier_id IS NULL")
    with op.batch_alter_table('short_link', schema=None) as batch_op:
        batch_op.alter_column('dossier_id', existing_type=sa.Integer(), nullable=False)
