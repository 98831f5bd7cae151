"""Read-only views of cases for people and tools (the `intake cases` command, the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.cases.deadlines import BRUSSELS
from intake.cases.models import Case, CaseRight, Event, Message, OutboxItem


@dataclass(frozen=True)
class CaseLine:
    reference: str
    mailbox: str
    kind: str
    status: str
    rights: tuple[str, ...]
    identity: str
    requester: str
    received: datetime
    due: date | None
    target: date | None
    suspended: bool
    needs_review: bool

    @classmethod
    def of(cls, c: Case) -> CaseLine:
        return cls(
            reference=c.reference,
            mailbox=c.mailbox_key,
            kind=c.kind,
            status=c.status,
            rights=c.right_names,
            identity=c.identity_status,
            requester=c.requester_address,
            received=c.received_at.astimezone(BRUSSELS),
            due=c.due_date,
            target=c.target_date,
            suspended=c.clock_suspended_on is not None,
            needs_review=c.needs_review,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "mailbox": self.mailbox,
            "kind": self.kind,
            "status": self.status,
            "rights": list(self.rights),
            "identity": self.identity,
            "requester": self.requester,
            "received": self.received.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "target": self.target.isoformat() if self.target else None,
            "clock_suspended": self.suspended,
            "needs_review": self.needs_review,
        }


def list_cases(
    session: Session,
    mailbox: str | None = None,
    status: str | None = None,
    right: str | None = None,
) -> list[CaseLine]:
    query = select(Case).options(selectinload(Case.rights)).order_by(Case.received_at, Case.id)
    if mailbox:
        query = query.where(Case.mailbox_key == mailbox)
    if status:
        query = query.where(Case.status == status)
    if right:
        query = query.where(Case.rights.any(CaseRight.right == right))
    return [CaseLine.of(c) for c in session.scalars(query)]


def case_detail(session: Session, reference: str) -> dict[str, Any] | None:
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        return None
    events = session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))
    messages = session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id)
    )
    outbox = session.scalars(
        select(OutboxItem).where(OutboxItem.case_id == case.id).order_by(OutboxItem.id)
    )
    summary = CaseLine.of(case).to_json()
    summary.update(
        {
            "requester_name": case.requester_name,
            "language": case.language,
            "confidence": case.confidence,
            "review_reason": case.review_reason,
            "clock_suspended_on": case.clock_suspended_on.isoformat()
            if case.clock_suspended_on
            else None,
            "suspended_days_left": case.suspended_days_left,
            "extended": case.extended,
        }
    )
    summary["events"] = [
        {
            "at": e.at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
            "actor": e.actor,
            "type": e.type,
            "reason": e.reason,
        }
        for e in events
    ]
    summary["messages"] = [
        {
            "id": m.id,
            "message_id": m.message_id,
            "received": m.received_at.astimezone(BRUSSELS).isoformat(),
            "from": m.from_address,
            "subject": m.subject,
            "kind": m.kind,
            "status": m.status,
        }
        for m in messages
    ]
    summary["outbox"] = [
        {
            "id": o.id,
            "purpose": o.purpose,
            "to": o.recipient,
            "status": o.status,
            "attempts": o.attempts,
            "message_id": o.message_id,
            "last_error": o.last_error,
            "sent_at": o.sent_at.isoformat() if o.sent_at else None,
        }
        for o in outbox
    ]
    return summary
