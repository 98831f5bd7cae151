"""Case workflow on SQLite and PostgreSQL: suspension, resumption, extension, closing, audit."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from intake.cases.workflow import (
    WorkflowError,
    close,
    extend,
    identity_received,
    start_clock,
    suspend_clock,
    suspensions,
)
from intake.store.models import Case, Event
from intake.store.timezone import BRUSSELS

HOLIDAYS = ("07-11",)


def new_case(session, received: datetime, kind: str = "request") -> Case:
    case = Case(reference="DPO-AGO-2026-0001", mailbox_key="ago", year=received.year, seq=1,
                kind=kind, status="open", requester_address="jan.peeters@example.be",
                received_at=received)
    session.add(case)
    session.flush()
    if kind == "request":
        start_clock(session, case, HOLIDAYS)
    return case


def events(session, case) -> list[str]:
    return list(session.scalars(select(Event.type).where(Event.case_id == case.id)
                                .order_by(Event.id)))


def test_suspension_and_resumption_keep_the_days_left(db):
    # Received Thursday 5 March 2026: due 7 April (Easter). Suspended the same day with
    # 31 days left (raw end 5 April); proof arrives 20 March: 20 March + 31 days = 20 April.
    with db.sessions() as s, s.begin():
        case = new_case(s, datetime(2026, 3, 5, 10, tzinfo=BRUSSELS))
        assert case.due_date == date(2026, 4, 7)
        suspend_clock(s, case, HOLIDAYS, date(2026, 3, 5), "proof asked", "intake")
        assert (case.status, case.suspended_days_left) == ("awaiting_identity", 31)
        with pytest.raises(WorkflowError, match="already suspended"):
            suspend_clock(s, case, HOLIDAYS, date(2026, 3, 6), "again", "intake")
        identity_received(s, case, HOLIDAYS, date(2026, 3, 20), "ID copy by post", "els")
        assert case.status == "open" and case.clock_suspended_on is None
        assert case.due_date == date(2026, 4, 20)
        assert suspensions(s, case) == [(date(2026, 3, 5), date(2026, 3, 20))]
        assert events(s, case) == ["clock_started", "clock_suspended", "identity_received",
                                   "clock_resumed", "due_date_changed"]
        actors = s.scalars(select(Event.actor).where(Event.type == "identity_received")).all()
        assert actors == ["els"]


def test_extension_within_first_month_only_once_and_with_reason(db):
    with db.sessions() as s, s.begin():
        case = new_case(s, datetime(2026, 1, 31, 12, tzinfo=BRUSSELS))  # due 2 March 2026 (Mon)
        with pytest.raises(WorkflowError):
            extend(s, case, HOLIDAYS, date(2026, 2, 10), "   ", "els")
        new_due = extend(s, case, HOLIDAYS, date(2026, 2, 10), "many requests this month", "els")
        assert new_due == date(2026, 4, 30)  # 31 Jan + 3 months = 30 April (Thursday)
        assert case.extended
        with pytest.raises(WorkflowError):
            extend(s, case, HOLIDAYS, date(2026, 2, 11), "again", "els")
        assert events(s, case).count("extension_refused") == 2


def test_late_extension_is_refused_with_the_legal_reason(db):
    with db.sessions() as s, s.begin():
        case = new_case(s, datetime(2026, 3, 5, 10, tzinfo=BRUSSELS))  # due 7 April
        with pytest.raises(WorkflowError, match="12"):
            extend(s, case, HOLIDAYS, date(2026, 4, 8), "complex request", "els")
        assert not case.extended and case.due_date == date(2026, 4, 7)


def test_questions_have_no_legal_clock(db):
    with db.sessions() as s, s.begin():
        case = new_case(s, datetime(2026, 3, 5, 10, tzinfo=BRUSSELS), kind="question")
        with pytest.raises(WorkflowError, match="no legal clock"):
            extend(s, case, HOLIDAYS, date(2026, 3, 6), "reason", "els")


def test_close_records_outcome_and_punctuality(db):
    with db.sessions() as s, s.begin():
        case = new_case(s, datetime(2026, 3, 5, 10, tzinfo=BRUSSELS))
        with pytest.raises(WorkflowError, match="12\\(4\\)"):
            close(s, case, "refused", "", "els", datetime(2026, 3, 20, tzinfo=BRUSSELS))
        close(s, case, "answered", "data sent", "els", datetime(2026, 4, 8, 9, tzinfo=BRUSSELS))
        closed = s.scalars(select(Event).where(Event.type == "closed")).one()
        assert closed.data["on_time"] is False
        with pytest.raises(WorkflowError, match="already closed"):
            close(s, case, "answered", "", "els", datetime(2026, 4, 9, tzinfo=BRUSSELS))


def test_audit_events_cannot_be_changed_or_deleted(db):
    with db.sessions() as s, s.begin():
        new_case(s, datetime(2026, 3, 5, 10, tzinfo=BRUSSELS))
    with db.sessions() as s:
        first = s.scalars(select(Event)).first()
        first.reason = "rewritten"
        with pytest.raises(WorkflowError, match="cannot be changed"):
            s.flush()
        s.rollback()
        s.delete(s.scalars(select(Event)).first())
        with pytest.raises(WorkflowError):
            s.flush()
