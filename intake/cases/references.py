"""Case references per mailbox and year (DPO-AGO-2026-0042): no gaps, no duplicates."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.store.models import ReferenceCounter
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


class ReferenceBlock:
    """References for the cases of one run of messages recorded together, in one transaction.

    The first case of a (mailbox, year) allocates as allocate_reference does, which locks the
    counter until commit; the next ones are counted on from there and `close()` writes the last
    number back, in the same transaction. One statement per run instead of one per case, with the
    same guarantees: a rolled-back run gives all its numbers back.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        # (mailbox key, year) -> [last number given out, last number stored in the counter]
        self._counters: dict[tuple[str, int], list[int]] = {}

    def allocate(self, mailbox_key: str, prefix: str, year: int) -> tuple[str, int]:
        counter = self._counters.get((mailbox_key, year))
        if counter is None:
            reference, seq = allocate_reference(self.session, mailbox_key, prefix, year)
            self._counters[(mailbox_key, year)] = [seq, seq]
            return reference, seq
        counter[0] += 1
        return format_reference(prefix, year, counter[0]), counter[0]

    def close(self) -> None:
        """Store the last number given out of every counter that moved on in memory."""
        for (mailbox_key, year), counter in self._counters.items():
            given, stored = counter
            if given != stored:
                self.session.execute(
                    update(ReferenceCounter)
                    .where(ReferenceCounter.mailbox_key == mailbox_key,
                           ReferenceCounter.year == year)
                    .values(last_seq=given)
                )
                counter[1] = given
