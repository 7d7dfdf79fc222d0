"""response: idempotency keys are unique per unit and source, not globally

Revision ID: core_0005
Revises: core_0003
Create Date: 2026-12-04 19:20:00

Existing keys were globally unique, so they stay unique within (unit, source). A keyed response
without a source (none is written so today) is given its channel as source so that the database's
constraint also covers it (a NULL source would leave the key unconstrained). A downgrade fails if two
clients have meanwhile stored the same key (the global constraint cannot hold them both).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'core_0005'
down_revision: str | Sequence[str] | None = 'core_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    response = sa.table('response', sa.column('source', sa.String), sa.column('channel', sa.String),
                        sa.column('idempotency_key', sa.String))
    op.execute(response.update()
               .where(response.c.idempotency_key.is_not(None), response.c.source.is_(None))
               .values(source=response.c.channel))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('uq_response_idempotency_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_response_unit_id_source_idempotency_key'),
                                          ['unit_id', 'source', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_response_unit_id_source_idempotency_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_response_idempotency_key'), ['idempotency_key'])
