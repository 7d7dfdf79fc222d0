"""dossier: ``field`` and ``procedure`` stored composed (NFC)

Until the API stored them composed (and, before that, the XLSX and UTF-16 imports), a field typed with decomposed
marks (Unikey's "Unicode tổ hợp", a Mac) was stored so: the Biểu II.06a showed two "Hộ tịch" rows, each with part
of the field's figures, and the field filter (read as NFC) left those dossiers out. Each distinct value that is not
NFC is rewritten composed, on every backend the same way (the distinct values are few: a ward has tens of fields
and some hundreds of procedures, so nothing is read row by row). The dossier triggers move the dossier events from
the decomposed field to the composed one (``sipas.dossier_events``), so the figures stay equal to a recount.
Citizens' comments and case notes are free text, shown as typed and never grouped: they are left as they are.

Revision ID: core_0027
Revises: core_0026
Create Date: 2026-12-07 18:10:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0027'
down_revision: str | Sequence[str] | None = 'core_0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("field", "procedure")


def upgrade() -> None:
    bind = op.get_bind()
    for column in COLUMNS:
        values = bind.execute(sa.text(f"SELECT DISTINCT {column} FROM dossier")).scalars().all()
        for value in values:
            if value is None or unicodedata.is_normalized("NFC", value):
                continue
            bind.execute(sa.text(f"UPDATE dossier SET {column} = :composed WHERE {column} = :value"),
                         {"composed": unicodedata.normalize("NFC", value), "value": value})


def downgrade() -> None:
    pass  # composed text is right under every revision
