"""Drop ix_sms_invitation_dossier_id: the unique (dossier_id, instrument_code, kind) begins with its column

The same change as ``core_0023`` on this branch's table: an index whose column begins another index is written
with every row for nothing (``tests/test_schema_indexes.py``).

Revision ID: sms_0005
Revises: sms_0004
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'sms_0005'
down_revision: str | Sequence[str] | None = 'sms_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_sms_invitation_dossier_id', table_name='sms_invitation')


def downgrade() -> None:
    op.create_index('ix_sms_invitation_dossier_id', 'sms_invitation', ['dossier_id'], unique=False)
