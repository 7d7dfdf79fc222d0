"""dossier_event_tally: year rows beside the day and month rows, kept by the same triggers

The report's dossier figures sum the events before a day since the first dossier (how many were open then);
from the month rows alone that read grows by a month of rows every month the office runs (issue 14, goal 2).
With the year rows it is the years before the period's, then months and a few days. The year rows are summed
from the month rows without a returned dossier's class and forms (not needed before a period); the triggers
are recreated with the year grain (``sipas.dossier_events``).

Revision ID: core_0022
Revises: core_0021
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'core_0022'
down_revision: str | Sequence[str] | None = 'core_0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "unit_id, field, kind, online, negative"


def _year(dialect: str) -> str:
    if dialect == "sqlite":
        return "date(local_date, 'start of year')"
    return "CAST(date_trunc('year', CAST(local_date AS timestamp)) AS date)"


def upgrade() -> None:
    from sipas.dossier_events import drop_triggers, install_triggers

    bind = op.get_bind()
    drop_triggers(bind)
    # core_0020 and core_0021 rebuild the events with today's code, which already writes year rows: start over
    op.execute("DELETE FROM dossier_event_tally WHERE grain = 'year'")
    year = _year(bind.dialect.name)
    op.execute(f"INSERT INTO dossier_event_tally (grain, local_date, {KEY}, forms, handling, dossiers) "
               f"SELECT 'year', {year}, {KEY}, 0, '', SUM(dossiers) FROM dossier_event_tally "
               f"WHERE grain = 'month' GROUP BY {year}, {KEY} HAVING SUM(dossiers) <> 0")
    install_triggers(bind, previous=True)  # the triggers of its time (core_0032 changed them)


def downgrade() -> None:
    from sipas.dossier_events import drop_triggers, install_triggers

    bind = op.get_bind()
    drop_triggers(bind)
    op.execute("DELETE FROM dossier_event_tally WHERE grain = 'year'")
    install_triggers(bind, grains=("day", "month"), previous=True)
