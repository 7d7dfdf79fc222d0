"""dossier: ix_dossier_unit_names (unit_id, procedure, field)

The console's dossier search folds the units' procedure and field names in Python ("ho tich" finds "Hộ tịch"). It
read them with two ``SELECT DISTINCT`` over every dossier row of the units: procedure had no index, and SQLite
without statistics did not choose ``ix_dossier_field`` — 4 s each for a province's 1.1 M dossiers. This index
gives both from one index-only read (0.1 s there).

Revision ID: core_0031
Revises: core_0030
Create Date: 2026-12-07 21:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'core_0031'
down_revision: str | Sequence[str] | None = 'core_0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_dossier_unit_names', 'dossier', ['unit_id', 'procedure', 'field'])


def downgrade() -> None:
    op.drop_index('ix_dossier_unit_names', table_name='dossier')
