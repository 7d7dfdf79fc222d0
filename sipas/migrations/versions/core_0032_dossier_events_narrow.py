"""dossier events: a rating's count update computes fewer events (SQLite: only those that move; PostgreSQL: one
scan of each transition table)

A rating updates its dossier's ``responses`` / ``negative_responses`` (``sipas.tally``), and the update trigger
took the twelve event rows of the old row and of the new one, each by a ``SELECT`` of its own, summed them and
upserted what did not cancel: for a satisfied rating the returned event's day and month rows (4 upserts), yet the
24 ``SELECT`` statements and their sum ran every time (issue 14, goal 1; docs/performance.md, "Intake, 2026-12-08:
a rating inside the database"). Now (``sipas.dossier_events``):

- SQLite: the update trigger fires only when an event column other than the counts changes, or whether the dossier
  is dissatisfied; a second trigger, ``dossier_events_forms``, when the counts change the dossier's ``forms`` and
  nothing else moves: the returned event's day and month rows, old and new;
- PostgreSQL: each function reads its transition tables once, each row's events from a ``VALUES`` list beside it
  (``CROSS JOIN LATERAL``), and sums them as before.

The event rows are what they were: nothing to recount. The downgrade puts back the previous triggers.

Revision ID: core_0032
Revises: core_0031
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'core_0032'
down_revision: str | Sequence[str] | None = 'core_0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from sipas.dossier_events import drop_triggers, install_triggers

    bind = op.get_bind()
    drop_triggers(bind)
    install_triggers(bind)


def downgrade() -> None:
    from sipas.dossier_events import drop_triggers, install_triggers

    bind = op.get_bind()
    drop_triggers(bind)
    install_triggers(bind, previous=True)
