"""Tallies recounted where a paper ballot was corrected or removed

Until this revision, correcting or removing a keyed paper ballot deleted its response without taking its counts
away (``sipas.ballots``): the tallies the reports read, and the dossier's rating counts that its events follow,
kept a ballot that was no longer there (a removed duplicate still counted; a corrected "Không hài lòng" still made
its dossier dissatisfied). Where the audit log shows such a correction or removal, everything is recounted from
the raw rows by ``sipas.tally.rebuild`` with the configured catalogue and time zone, as ``sipas db retally`` does;
elsewhere there is nothing to recount.

Revision ID: core_0024
Revises: core_0023
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0024'
down_revision: str | Sequence[str] | None = 'core_0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDITS = ("ballot.line_corrected", "ballot.line_removed")


def upgrade() -> None:
    bind = op.get_bind()
    edited = bind.execute(sa.text("SELECT 1 FROM audit_event WHERE action IN (:corrected, :removed) LIMIT 1"),
                          {"corrected": EDITS[0], "removed": EDITS[1]}).first()
    if edited is None:
        return
    from sipas.catalogue import load_catalogue
    from sipas.settings import Settings
    from sipas.tally import rebuild

    settings = Settings.from_env()
    rebuild(bind, load_catalogue(settings.config_dir).dissatisfied_answers(), settings.tz)


def downgrade() -> None:
    pass  # the recount is right under every revision
