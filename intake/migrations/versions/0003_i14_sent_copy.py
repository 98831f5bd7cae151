"""sent_copy: copies of sent replies in the mailbox's Sent folder (branch i14)

Revision ID: 0003_i14
Revises: 0003_i17
Create Date: 2026-12-06 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intake.store.models


revision: str = '0003_i14'
down_revision: str | None = "0003_i17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sent_copy',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_key', sa.String(length=32), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', intake.store.models.UtcDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('stored_at', intake.store.models.UtcDateTime(), nullable=True),
    sa.Column('created_at', intake.store.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_sent_copy_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_sent_copy'))
    )
    with op.batch_alter_table('sent_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_copy_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sent_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_copy_status'))
    op.drop_table('sent_copy')
