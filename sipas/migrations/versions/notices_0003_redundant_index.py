"""Drop ix_notice_unit_id: the unique (unit_id, year, number) begins with its column

The same change as ``core_0023`` on this branch's table: an index whose column begins another index is written
with every row for nothing (``tests/test_schema_indexes.py``).

Revision ID: notices_0003
Revises: notices_0002
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'notices_0003'
down_revision: str | Sequence[str] | None = 'notices_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_notice_unit_id', table_name='notice')


def downgrade() -> None:
    op.create_index('ix_notice_unit_id', 'notice', ['unit_id'], unique=False)
