"""mailbox health: last attempt and success, consecutive failures, last error per mailbox

Revision ID: 0003_i15
Revises: 0003_i11
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import intake.store.models

revision: str = "0003_i15"
down_revision: str | None = "0003_i11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox_health",
        sa.Column("mailbox_key", sa.String(length=32), nullable=False),
        sa.Column("last_attempt_at", intake.store.models.UtcDateTime(), nullable=True),
        sa.Column("last_success_at", intake.store.models.UtcDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("mailbox_key", name=op.f("pk_mailbox_health")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_health")
