"""Changes to a case's clock and state, each recorded as an audit event with actor and reason.

The clock is derived from the audit trail: the suspensions are the `clock_suspended` /
`clock_resumed` events, the extension is the `extended` event. `Case.due_date` is the result,
kept on the row so that lists and digests can sort and filter by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from intake.cases.deadlines import (
    BRUSSELS,
    Calendar,
    DueDate,
    current_due,
    days_left,
    due_date,
    extension_allowed,
)
from intake.store.enums import LEGAL_CLOCK_KINDS
from intake.store.models import Case, Event

OUTCOMES = ("answered", "refused", "withdrawn", "forwarded")
# A case to classify that staff found to be nobody's request (set by reclassification only).
NO_CASE = "no_case"


class WorkflowError(ValueError):
    """The change is not allowed; the message says why (in terms staff can act on)."""


# session.info key: set only by the retention purge (see purging_events), which alone may delete.
PURGE_FLAG = "intake_purging_events"


@event.listens_for(Event, "before_update")
def _events_are_append_only(_mapper: Any, _connection: Any, target: Event) -> None:
    raise WorkflowError(f"audit event #{target.id} cannot be changed or deleted")


@event.listens_for(Event, "before_delete")
def _events_are_kept(_mapper: Any, _connection: Any, target: Event) -> None:
    session = object_session(target)
    if session is None or not session.info.get(PURGE_FLAG):
        raise WorkflowError(f"audit event #{target.id} cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes_to_events(state: ORMExecuteState) -> None:
    """The same rule for `session.execute(update(Event))` / `delete(Event)`."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ is not Event:
        return
    if state.is_delete and state.session.info.get(PURGE_FLAG):
        return
    raise WorkflowError("audit events cannot be changed or deleted")


@contextmanager
def purging_events(session: Session) -> Iterator[None]:
    """Within this block (the retention purge only) audit events of this session may be deleted."""
    session.info[PURGE_FLAG] = True
    try:
        yield
    finally:
        session.info.pop(PURGE_FLAG, None)


@lru_cache(maxsize=16)
def calendar_for(extra_holidays: tuple[str, ...]) -> Calendar:
    """One calendar per configured set of extra days, so its holiday cache is reused."""
    return Calendar(extra_holidays)


def record_event(session: Session, case: Case | None, type_: str, reason: str, actor: str,
                 data: dict[str, Any] | None = None, message_pk: int | None = None,
                 at: datetime | None = None) -> Event:
    """Append one audit event."""
    row = Event(case_id=case.id if case else None, message_pk=message_pk, actor=actor,
                type=type_, reason=reason[:500], data=data)
    if case is not None and case.id is None:
        row.case = case  # a case not flushed yet: the flush that inserts it links the event
    if at is not None:
        row.at = at
    session.add(row)
    return row


def suspensions(session: Session, case: Case) -> list[tuple[date, date | None]]:
    """The periods the clock stood still, from the audit trail, oldest first."""
    result: list[tuple[date, date | None]] = []
    for e in session.scalars(
        select(Event).where(Event.case_id == case.id,
                            Event.type.in_(("clock_suspended", "clock_resumed")))
        .order_by(Event.id)
    ):
        on = date.fromisoformat((e.data or {})["on"])
        if e.type == "clock_suspended":
            result.append((on, None))
        elif result and result[-1][1] is None:
            result[-1] = (result[-1][0], on)
    return result


def suspend_clock(session: Session, case: Case, extra_holidays: tuple[str, ...], on: date,
                  reason: str, actor: str, current: DueDate | None = None) -> None:
    """Stop the clock from `on` (proof of identity asked for, EDPB 01/2022 §159).

    `current` is the running due date when the caller has it (a case just opened), else it is
    derived from the audit trail.
    """
    if case.kind not in LEGAL_CLOCK_KINDS:
        raise WorkflowError(f"{case.reference} is a {case.kind}: it has no legal clock")
    if case.clock_suspended_on is not None:
        raise WorkflowError(f"the clock of {case.reference} is already suspended")
    due = current or current_due(case.received_at, calendar_for(extra_holidays),
                                 suspensions(session, case), case.extended)
    assert due is not None
    case.clock_suspended_on = on
    case.suspended_days_left = days_left(due.raw_end, on)
    case.status = "awaiting_identity"
    record_event(session, case, "clock_suspended", reason, actor,
                 {"on": on.isoformat(), "days_left": case.suspended_days_left})


def identity_received(session: Session, case: Case, extra_holidays: tuple[str, ...], on: date,
                      reason: str, actor: str, status: str = "id_copy") -> None:
    """Proof of identity arrived on `on`: note it and let the clock run on with the days left."""
    case.identity_status = status
    record_event(session, case, "identity_received", reason, actor, {"on": on.isoformat(),
                                                                     "status": status})
    if case.clock_suspended_on is None:
        return
    if on < case.clock_suspended_on:
        raise WorkflowError("proof cannot arrive before it was asked for "
                            f"({case.clock_suspended_on.isoformat()})")
    record_event(session, case, "clock_resumed", reason, actor, {"on": on.isoformat()})
    case.clock_suspended_on, case.suspended_days_left = None, None
    case.status = "open"
    _recompute_due(session, case, extra_holidays)


def extend(session: Session, case: Case, extra_holidays: tuple[str, ...], on: date, reason: str,
           actor: str) -> date:
    """Extend by two months (Art. 12(3)): once, with a reason, within the first month."""
    if case.kind != "request":
        raise WorkflowError(f"{case.reference} is a {case.kind}: it has no legal clock to extend")
    allowed, why = extension_allowed(
        case.received_at, calendar_for(extra_holidays), on, reason, case.extended,
        suspensions(session, case),
    )
    if not allowed:
        record_event(session, case, "extension_refused", why, actor, {"on": on.isoformat()})
        raise WorkflowError(why)
    case.extended = True
    record_event(session, case, "extended", reason.strip(), actor, {"on": on.isoformat()})
    _recompute_due(session, case, extra_holidays)
    assert case.due_date is not None
    return case.due_date


def close(session: Session, case: Case, outcome: str, reason: str, actor: str,
          at: datetime) -> None:
    """Close the case; a refusal needs its reason (Art. 12(4)). Records whether it was on time."""
    if outcome not in (*OUTCOMES, NO_CASE):
        raise WorkflowError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if outcome == "refused" and not reason.strip():
        raise WorkflowError("a refusal needs a reason: the requester must be told why "
                            "(GDPR Art. 12(4))")
    if case.status == "closed":
        raise WorkflowError(f"{case.reference} is already closed")
    answered_on = at.astimezone(BRUSSELS).date()
    # While the clock waits for proof of identity the period is not running, so it cannot run out.
    on_time = (case.due_date is None or case.clock_suspended_on is not None
               or answered_on <= case.due_date)
    case.status, case.closed_at = "closed", at
    case.outcome, case.answered_on, case.on_time = outcome, answered_on, on_time
    record_event(session, case, "closed", reason, actor,
                 {"outcome": outcome, "on": answered_on.isoformat(), "on_time": on_time}, at=at)


def _recompute_due(session: Session, case: Case, extra_holidays: tuple[str, ...]) -> None:
    calendar = calendar_for(extra_holidays)
    due = current_due(case.received_at, calendar, suspensions(session, case), case.extended)
    if due is None:  # still suspended: keep showing the due date as it stood
        return
    if due.due != case.due_date:
        record_event(session, case, "due_date_changed",
                     f"due {due.due.isoformat()} (was {case.due_date})", "intake",
                     {"due": due.due.isoformat(), "raw_end": due.raw_end.isoformat(),
                      "suspended_days": due.suspended_days})
    case.due_date = due.due


def start_clock(session: Session, case: Case, extra_holidays: tuple[str, ...]) -> DueDate:
    """Set the first due date of a new request and record it."""
    due = due_date(case.received_at, calendar_for(extra_holidays))
    case.due_date = due.due
    record_event(session, case, "clock_started", f"due {due.due.isoformat()}", "intake",
                 {"raw_end": due.raw_end.isoformat(), "due": due.due.isoformat()})
    return due
