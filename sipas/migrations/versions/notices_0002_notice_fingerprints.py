"""notice fingerprints: SHA-256 of the issued DOCX and PDF (issue 11 §5)

Revision ID: notices_0002
Revises: notices_0001
Create Date: 2026-12-04 22:10:00

Existing notices get the digests of the bytes they were issued with, so copies issued before this
revision can be verified too.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'notices_0002'
down_revision: str | Sequence[str] | None = 'notices_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('docx_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pdf_sha256', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    notice = sa.table('notice', sa.column('id', sa.Integer()), sa.column('docx', sa.LargeBinary()),
                      sa.column('pdf', sa.LargeBinary()), sa.column('docx_sha256', sa.String()),
                      sa.column('pdf_sha256', sa.String()))
    for row_id, docx, pdf in connection.execute(sa.select(notice.c.id, notice.c.docx, notice.c.pdf)).all():
        connection.execute(notice.update().where(notice.c.id == row_id).values(
            docx_sha256=hashlib.sha256(bytes(docx or b"")).hexdigest(),
            pdf_sha256=hashlib.sha256(bytes(pdf or b"")).hexdigest()))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.alter_column('docx_sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('pdf_sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_notice_docx_sha256'), ['docx_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_pdf_sha256'), ['pdf_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_pdf_sha256'))
        batch_op.drop_index(batch_op.f('ix_notice_docx_sha256'))
        batch_op.drop_column('pdf_sha256')
        batch_op.drop_column('docx_sha256')
