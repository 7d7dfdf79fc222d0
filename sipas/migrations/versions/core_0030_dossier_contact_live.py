"""dossier_contact: ix_dossier_contact_live (dossier_id) WHERE phone_e164 IS NOT NULL

The SMS cycle (every minute) looked for dossiers to invite and for numbers to erase by reading every contact ever
imported: after years, millions whose number is erased, for the few thousand that still hold one. This partial
index holds only those (``sipas.models.LIVE_CONTACT``).

Revision ID: core_0030
Revises: core_0029
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0030'
down_revision: str | Sequence[str] | None = 'core_0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_CONTACT = "phone_e164 IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_dossier_contact_live', 'dossier_contact', ['dossier_id'],
                    sqlite_where=sa.text(LIVE_CONTACT), postgresql_where=sa.text(LIVE_CONTACT))


def downgrade() -> None:
    op.drop_index('ix_dossier_contact_live', table_name='dossier_contact')
