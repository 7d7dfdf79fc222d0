"""A dossier rated with a comment asking for action counts as "có phản ánh, kiến nghị" for QĐ 766

QĐ 766/QĐ-TTg's ratio takes away "số hồ sơ không hài lòng hoặc có phản ánh, kiến nghị" (domain notes §2.4); each
dossier's ``negative_responses`` counted its dissatisfied ratings only. It now counts the ratings that are
dissatisfied or whose comment asks for action (``response.follow_up``, ``sipas.cases.rules``), and the dossier
events follow (``sipas.dossier_events.recount_dossiers``). Only a database with such a rating has anything to
recount.

Revision ID: core_0025
Revises: core_0024
Create Date: 2026-12-07 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0025'
down_revision: str | Sequence[str] | None = 'core_0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    petition = bind.execute(sa.text("SELECT 1 FROM response WHERE dossier_id IS NOT NULL AND follow_up "
                                    "AND NOT negative LIMIT 1")).first()
    if petition is None:
        return
    from sipas.dossier_events import recount_dossiers

    recount_dossiers(bind)


def downgrade() -> None:
    from sipas.dossier_events import recount_dossiers

    recount_dossiers(op.get_bind(), follow_up=False)  # the counts of the revision before: dissatisfied ones only
