"""Many cases read as columns with their rights, in one query: no ORM objects, no lazy loads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.store.models import Case, CaseRight


def cases_with_rights(
    session: Session,
    columns: Sequence[InstrumentedAttribute[Any] | ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    *,
    batch: int = 2000,
) -> Iterator[tuple[Row[Any], tuple[str, ...]]]:
    """(row, rights in their order) per case matching `where`, oldest first; the row is
    (id, *columns, one right): read it by position.

    Cases are ordered by (received_at, id), as the ORM lists of the register and the digest
    were; the rights come from an outer join ordered by position (a case without rights has
    none), grouped here, so one streamed query serves any number of cases.
    """
    query = (
        select(Case.id, *columns, CaseRight.right)
        .outerjoin(CaseRight, CaseRight.case_id == Case.id)
        .where(*where)
        .order_by(Case.received_at, Case.id, CaseRight.position, CaseRight.right)
    )
    # Core rows on the session's connection (its transaction), fetched `batch` at a time. The
    # option goes with the statement: Connection.execution_options would change the connection.
    rows = session.connection().execute(query, execution_options={"yield_per": batch})
    current: Row[Any] | None = None
    rights: list[str] = []
    for row in rows:
        if current is None or row[0] != current[0]:
            if current is not None:
                yield current, tuple(rights)
            current, rights = row, []
        if row[-1] is not None:
            rights.append(row[-1])
    if current is not None:
        yield current, tuple(rights)
