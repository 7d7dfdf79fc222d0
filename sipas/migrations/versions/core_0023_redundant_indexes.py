"""Drop the indexes whose columns begin another index: every rating wrote each of them for nothing

``answer.response_id`` had an index of its own beside the unique ``(response_id, criterion_code)``, which serves
every lookup by response as well; so did ``response.unit_id`` beside ``(unit_id, submitted_at)``, ``dossier.unit_id``
beside ``(unit_id, code)``, ``ballot_line.batch_id`` beside its unique keys (the other branches' tables: their own
``…_redundant_index`` revisions). A 12-answer rating wrote 13 index entries more than it needed (issue 14, goal 1),
and the benchmark province of 1 M ratings is 193 MB smaller on SQLite (1,861.5 → 1,668.7 MB).
``tests/test_schema_indexes.py`` keeps new ones from coming back. A plain ``DROP INDEX`` on both databases (no table
rebuild on SQLite: the triggers on ``dossier`` stay).

Revision ID: core_0023
Revises: core_0022
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'core_0023'
down_revision: str | Sequence[str] | None = 'core_0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, index, its column): created by earlier revisions, each the first column of another index
DROPPED = (
    ("answer", "ix_answer_response_id", "response_id"),
    ("response", "ix_response_unit_id", "unit_id"),
    ("dossier", "ix_dossier_unit_id", "unit_id"),
    ("ballot_line", "ix_ballot_line_batch_id", "batch_id"),
)


def upgrade() -> None:
    for table, index, _column in DROPPED:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for table, index, column in DROPPED:
        op.create_index(index, table, [column], unique=False)
