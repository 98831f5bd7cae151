"""Read-only views of cases for people and tools (the `intake cases` command, the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.store.enums import LEGAL_CLOCK_KINDS
from intake.store.models import Case, CaseRight, Event, Message, OutboxItem, SentCopy
from intake.store.timezone import BRUSSELS


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
    assignee: str | None = None
    outcome: str | None = None

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
            assignee=c.assignee,
            outcome=c.outcome,
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
            "assignee": self.assignee,
            "outcome": self.outcome,
        }


def list_cases(
    session: Session,
    mailbox: str | None = None,
    status: str | None = None,
    right: str | None = None,
    *,
    due_before: date | None = None,
    needs_review: bool = False,
    kind: str | None = None,
) -> list[CaseLine]:
    """Cases oldest first; `due_before` keeps legal due dates on or before that day."""
    query = select(Case).options(selectinload(Case.rights)).order_by(Case.received_at, Case.id)
    if mailbox:
        query = query.where(Case.mailbox_key == mailbox)
    if status:
        query = query.where(Case.status == status)
    if right:
        query = query.where(Case.rights.any(CaseRight.right == right))
    if due_before:
        query = query.where(Case.due_date <= due_before)
    if needs_review:
        query = query.where(Case.needs_review.is_(True))
    if kind:
        query = query.where(Case.kind == kind)
    return [CaseLine.of(c) for c in session.scalars(query)]


def case_detail(session: Session, reference: str, *, bodies: bool = False) -> dict[str, Any] | None:
    """One case with its clock, timeline, messages (identity evidence; bodies only if asked) and
    outbox."""
    case = session.scalars(select(Case).where(Case.reference == reference.strip().upper())).first()
    if case is None:
        return None
    events = list(session.scalars(select(Event).where(Event.case_id == case.id)
                                  .order_by(Event.id)))
    messages = session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id)
    )
    outbox = list(session.scalars(
        select(OutboxItem).where(OutboxItem.case_id == case.id).order_by(OutboxItem.id)
    ))
    copies = {  # the copy in the mailbox's Sent folder: pending | stored | server | failed
        c.outbox_id: c.status
        for c in session.scalars(
            select(SentCopy).where(SentCopy.outbox_id.in_([o.id for o in outbox]))
        )
    }
    summary = CaseLine.of(case).to_json()
    summary.update(
        {
            "requester_name": case.requester_name,
            "language": case.language,
            "confidence": case.confidence,
            "review_reason": case.review_reason,
            "clock_suspended_on": _iso(case.clock_suspended_on),
            "suspended_days_left": case.suspended_days_left,
            "extended": case.extended,
            "answered_on": _iso(case.answered_on),
            "on_time": case.on_time,
        }
    )
    summary["clock"] = _clock(case, events)
    summary["events"] = [
        {
            "at": e.at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
            "actor": e.actor,
            "type": e.type,
            "reason": e.reason,
            "data": e.data,
        }
        for e in events
    ]
    summary["messages"] = [_message(m, bodies) for m in messages]
    summary["outbox"] = [
        {
            "id": o.id,
            "purpose": o.purpose,
            "to": o.recipient,
            "status": o.status,
            "attempts": o.attempts,
            "message_id": o.message_id,
            "created": o.created_at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
            "last_error": o.last_error,
            "sent_at": o.sent_at.isoformat() if o.sent_at else None,
            **_reply(o.raw),
            "sent_copy": copies.get(o.id),
        }
        for o in outbox
    ]
    return summary


def _reply(raw: bytes) -> dict[str, str]:
    """The subject and plain text of a reply we wrote, as the requester reads it."""
    from email import message_from_bytes, policy

    mail = message_from_bytes(raw, policy=policy.default)
    body = mail.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return {"subject": str(mail["Subject"] or ""), "text": text.strip()}


def _clock(case: Case, events: list[Event]) -> dict[str, Any]:
    """Received, due, the suspensions and the extension, as the audit trail records them."""
    suspensions: list[dict[str, str | None]] = []
    extension = None
    for e in events:
        data = e.data or {}
        if e.type == "clock_suspended":
            suspensions.append({"from": data.get("on"), "to": None})
        elif e.type == "clock_resumed" and suspensions and suspensions[-1]["to"] is None:
            suspensions[-1]["to"] = data.get("on")
        elif e.type == "extended":
            extension = {"on": data.get("on"), "by": e.actor, "reason": e.reason}
    return {
        "received": case.received_at.astimezone(BRUSSELS).isoformat(),
        "legal_clock": case.kind in LEGAL_CLOCK_KINDS,
        "due": _iso(case.due_date),
        "target": _iso(case.target_date),
        "suspensions": suspensions,
        "extension": extension,
        "closed": _iso(case.answered_on),
    }


def _message(m: Message, bodies: bool) -> dict[str, Any]:
    identity = (m.triage or {}).get("identity") or {"status": "none", "evidence": []}
    line: dict[str, Any] = {
        "id": m.id,
        "message_id": m.message_id,
        "received": m.received_at.astimezone(BRUSSELS).isoformat(),
        "from": m.from_address,
        "subject": m.subject,
        "kind": m.kind,
        "status": m.status,
        "identity": identity,
    }
    if bodies:
        line["body"] = m.body_text
    return line


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
