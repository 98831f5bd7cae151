"""i11: CHECK constraints for case kind/status and message status/kind/disposition (enums)

The allowed values are the enums of intake.store.enums as of this revision, written out here so
that a later change of an enum needs a migration of its own. Before adding a constraint the
upgrade looks for rows that would break it and stops with their values (fix the data first).

Revision ID: 0003_i11
Revises: 0002
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_i11'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_KIND = ("request", "question", "to_classify")
CASE_STATUS = ("open", "awaiting_identity", "closed")
MESSAGE_STATUS = ("processed", "duplicate", "quarantined")
MESSAGE_KIND = ("request", "followup", "auto_reply", "bounce", "bulk", "other")
DISPOSITION = ("open_request", "open_question", "to_classify", "followup", "list_only", "robot")

# (table, column, allowed values, nullable)
CHECKS = (
    ("case", "kind", CASE_KIND, False),
    ("case", "status", CASE_STATUS, False),
    ("message", "status", MESSAGE_STATUS, False),
    ("message", "kind", MESSAGE_KIND, True),
    ("message", "disposition", DISPOSITION, True),
)


def _condition(column: str, allowed: Sequence[str], nullable: bool) -> str:
    condition = f"{column} IN ({', '.join(repr(v) for v in allowed)})"
    return f"{column} IS NULL OR {condition}" if nullable else condition


def _check_data() -> None:
    bind = op.get_bind()
    wrong = []
    for table, column, allowed, _nullable in CHECKS:
        t = sa.table(table, sa.column(column))
        found = bind.execute(sa.select(t.c[column]).distinct()).scalars().all()
        stray = sorted(str(v) for v in found if v is not None and v not in allowed)
        if stray:
            wrong.append(f"{table}.{column}: {', '.join(stray)}")
    if wrong:
        raise RuntimeError("values outside the allowed sets, fix them before upgrading: "
                           + "; ".join(wrong))


def upgrade() -> None:
    _check_data()
    for table in ("case", "message"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, allowed, nullable in CHECKS:
                if t == table:
                    batch_op.create_check_constraint(
                        op.f(f"ck_{table}_{column}"), _condition(column, allowed, nullable))


def downgrade() -> None:
    for table in ("message", "case"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, _allowed, _nullable in reversed(CHECKS):
                if t == table:
                    batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
