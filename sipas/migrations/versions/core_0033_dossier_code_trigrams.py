"""dossier: a trigram index of the codes for the search by a part of a code

A province admin's search by a part of a code (``lower(code) LIKE '%…%'``, PostgreSQL ``code ILIKE '%…%'``)
read the 1.1 M codes of the (unit, code) index: 2.5–4.5 s. SQLite gets ``dossier_code_fts`` (FTS5, ``trigram``
tokenizer, external content ``dossier.code``) kept by triggers, filled here from the stored dossiers; PostgreSQL the
GIN index ``ix_dossier_code_trgm`` of ``code`` (``pg_trgm``), skipped with a log line where the role may not create
the extension (``sipas.code_search``).

Revision ID: core_0033
Revises: core_0032
Create Date: 2026-12-08 00:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'core_0033'
down_revision: str | Sequence[str] | None = 'core_0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from sipas.code_search import install

    install(op.get_bind())


def downgrade() -> None:
    from sipas.code_search import uninstall

    uninstall(op.get_bind())
