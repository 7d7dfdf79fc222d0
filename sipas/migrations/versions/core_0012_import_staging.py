"""import_staging, dossier_staging: imports stage validated rows, then swap them in with one short transaction

Revision ID: core_0012
Revises: core_0019
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sipas.models

revision: str = 'core_0012'
down_revision: str | Sequence[str] | None = 'core_0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_staging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_import_staging_job_id_import_job'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_import_staging_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_staging'))
    )
    with op.batch_alter_table('import_staging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_staging_token'), ['token'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_staging_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_staging_created_at'), ['created_at'], unique=False)

    op.create_table('dossier_staging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('created_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('unreturn', sa.Boolean(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('procedure', sa.String(length=500), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('intake_channel', sa.Enum('direct', 'online_partial', 'online_full', 'postal', name='intakechannel',
                                        native_enum=False, length=32), nullable=False),
    sa.Column('received_at', sipas.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_local_date', sa.Date(), nullable=False),
    sa.Column('due_local_date', sa.Date(), nullable=True),
    sa.Column('returned_local_date', sa.Date(), nullable=True),
    sa.Column('contact_op', sa.String(length=8), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('sms_consent', sa.Boolean(), nullable=True),
    sa.Column('consent_at', sipas.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consent_method', sa.String(length=32), nullable=True),
    sa.Column('consent_wording_version', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_dossier_staging_job_id_import_job'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_dossier_staging_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_staging'))
    )
    with op.batch_alter_table('dossier_staging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_staging_token'), ['token'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_staging_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_staging_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossier_staging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_staging_created_at'))
        batch_op.drop_index(batch_op.f('ix_dossier_staging_job_id'))
        batch_op.drop_index(batch_op.f('ix_dossier_staging_token'))
    op.drop_table('dossier_staging')
    with op.batch_alter_table('import_staging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_staging_created_at'))
        batch_op.drop_index(batch_op.f('ix_import_staging_job_id'))
        batch_op.drop_index(batch_op.f('ix_import_staging_token'))
    op.drop_table('import_staging')
