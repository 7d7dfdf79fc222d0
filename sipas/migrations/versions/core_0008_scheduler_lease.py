"""scheduler_lock: a lease with an expiry and a fencing token; scheduler_job_run: the job-run log

Revision ID: core_0008
Revises: core_0005
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0008'
down_revision: str | Sequence[str] | None = 'core_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('scheduler_lock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('expires_at', sipas.models.UTCDateTime(timezone=True), nullable=True))
    # A lock held by a scheduler of the previous version expires at its last heartbeat.
    op.execute("UPDATE scheduler_lock SET expires_at = heartbeat_at")
    with op.batch_alter_table('scheduler_lock', schema=None) as batch_op:
        batch_op.alter_column('token', server_default=None)
        batch_op.alter_column('expires_at', existing_type=sipas.models.UTCDateTime(timezone=True), nullable=False)
    op.create_table('scheduler_job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('token', sa.Integer(), nullable=False),
    sa.Column('started_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_job_run'))
    )
    with op.batch_alter_table('scheduler_job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_job_run_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduler_job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_job_run_started_at'))
    op.drop_table('scheduler_job_run')
    with op.batch_alter_table('scheduler_lock', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('token')
