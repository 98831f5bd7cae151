"""messages in flight: marked before triage, so a worker that dies while reading one is noticed

Revision ID: 0003_i17
Revises: 0003_i15
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intake.store.models

revision: str = "0003_i17"
down_revision: str | None = "0003_i15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_in_flight",
        sa.Column("mailbox_key", sa.String(length=32), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", intake.store.models.UtcDateTime(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint(
            "mailbox_key", "folder", "uidvalidity", "uid", name=op.f("pk_message_in_flight")
        ),
    )


def downgrade() -> None:
    op.drop_table("message_in_flight")
