"""Drop ix_aggregator_quarter_input_unit_id: the unique (unit_id, year, quarter) begins with its column

The same change as ``core_0023`` on this branch's table: an index whose column begins another index is written
with every row for nothing (``tests/test_schema_indexes.py``).

Revision ID: aggregator_0002
Revises: aggregator_0001
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'aggregator_0002'
down_revision: str | Sequence[str] | None = 'aggregator_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_aggregator_quarter_input_unit_id', table_name='aggregator_quarter_input')


def downgrade() -> None:
    op.create_index('ix_aggregator_quarter_input_unit_id', 'aggregator_quarter_input', ['unit_id'], unique=False)
