"""Case references per mailbox and year (DPO-AGO-2026-0042): no gaps, no duplicates."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.cases.models import ReferenceCounter
from intake.thread import format_reference


def allocate_reference(
    session: Session, mailbox_key: str, prefix: str, year: int
) -> tuple[str, int]:
    """The next reference for (mailbox, year), counted inside the caller's transaction.

    One upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) creates or increments the counter row
    and locks it (PostgreSQL) or the database (SQLite, BEGIN IMMEDIATE) until the caller commits:
    concurrent callers queue, and a rolled-back case gives its number back, so references have
    neither gaps nor duplicates.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ReferenceCounter).values(mailbox_key=mailbox_key, year=year, last_seq=1)
    seq = session.execute(
        statement.on_conflict_do_update(
            index_elements=["mailbox_key", "year"],
            set_={"last_seq": ReferenceCounter.last_seq + 1},
        ).returning(ReferenceCounter.last_seq)
    ).scalar_one()
    return format_reference(prefix, year, seq), seq
