"""What staff do to a case: assign, note, reclassify, identity, extend, close, reopen — audited.

Each operation checks first and changes second, so a refused operation leaves the case as it was;
the only trace a refusal leaves is the `extension_refused` event (kept on purpose: an attempt
to extend late is part of the audit trail). The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.cases.decide import ClockChange, decide_reclassification
from intake.cases.workflow import (
    WorkflowError,
    close,
    extend,
    identity_received,
    record_event,
    start_clock,
)
from intake.config import MailboxSettings
from intake.identity import PROOF_STATUSES
from intake.outbound.notices import (
    EXTENSION_NOTICE,
    IDENTITY_CONFIRMATION,
    first_message,
    queue_notice,
    staff_text,
)
from intake.rights import RIGHTS
from intake.store.models import Case, CaseRight, Message, OutboxItem
from intake.store.timezone import BRUSSELS

NOTE_MAX = 500
PERSON_MAX = 120


class CaseNotFound(LookupError):
    """No case has that reference."""


class ExtensionRefused(WorkflowError):
    """Art. 12(3) does not allow this extension; the refusal is in the audit trail."""


def brussels_day(moment: datetime) -> date:
    return moment.astimezone(BRUSSELS).date()


def find_case(session: Session, reference: str) -> Case:
    """The case with this reference (case-insensitive), or CaseNotFound."""
    wanted = reference.strip().upper()
    case = session.scalars(select(Case).where(Case.reference == wanted)).first()
    if case is None:
        raise CaseNotFound(f"no case {reference!r}")
    return case


def assign(session: Session, case: Case, person: str, actor: str) -> None:
    """Make `person` responsible for the case."""
    person = person.strip()
    if not person or len(person) > PERSON_MAX:
        raise WorkflowError(f"name the person to assign (1 to {PERSON_MAX} characters)")
    before, case.assignee = case.assignee, person
    record_event(session, case, "assigned", f"assigned to {person}", actor,
                 {"assignee": person, "before": before})


def add_note(session: Session, case: Case, text: str, actor: str) -> None:
    """A free note in the case's timeline (no personal data beyond what the case needs)."""
    text = staff_text(text)
    if not text:
        raise WorkflowError("a note needs text")
    if len(text) > NOTE_MAX:
        raise WorkflowError(f"a note is at most {NOTE_MAX} characters ({len(text)} given)")
    record_event(session, case, "note", text, actor)


def parse_rights(values: Sequence[str]) -> list[str]:
    """Canonical right names from "access,erasure"-style input, in order, without repeats."""
    rights: list[str] = []
    for value in values:
        for name in (v.strip().lower() for v in value.split(",")):
            if not name:
                continue
            if name not in RIGHTS:
                raise WorkflowError(f"{name!r} is not a right (one of: {', '.join(RIGHTS)})")
            if name not in rights:
                rights.append(name)
    return rights


def reclassify(session: Session, case: Case, mailbox: MailboxSettings, rights: Sequence[str],
               actor: str, now: datetime, reason: str = "", no_case: bool = False) -> None:
    """Set the case's rights by a person's decision; clears needs_review.

    The `reclassified` event's data is exactly {"rights_before": [...], "rights": [...]}, plus
    "kind_before" / "kind" (request | question | no_case) for a case to classify: it is
    exported as a training correction.
    No rights means a question (no legal clock); a question that gets rights becomes a request
    whose clock runs from the day of receipt; a case to classify that gets rights keeps the
    clock it has had since receipt. `no_case` (a case to classify only) closes it with the
    outcome "no_case" and the reason, which is then required.
    """
    before = list(case.right_names)
    rights = [] if no_case else list(rights)
    try:
        change = decide_reclassification(case.kind, rights, no_case)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None
    kind = change.kind.value if change.kind else case.kind
    if rights == before and not case.needs_review and kind == case.kind and not no_case:
        raise WorkflowError(f"{case.reference} already has exactly these rights")
    if case.status == "closed" and (kind != case.kind or no_case):
        raise WorkflowError(f"{case.reference} is closed: reopen it before making a "
                            f"{case.kind} a {kind if not no_case else 'no case'}")
    if no_case and not staff_text(reason):
        raise WorkflowError("say why this message is no case (it is kept in the audit trail)")
    opening = first_message(session, case)
    change_text = f"rights {', '.join(before) or 'none'} -> {', '.join(rights) or 'none'}"
    if no_case:
        change_text = f"{case.kind} -> no case"
    elif kind != case.kind:
        change_text += f" ({case.kind} -> {kind})"
    data: dict = {"rights_before": before, "rights": rights}
    if case.kind == "to_classify":  # what staff decided the message is
        data.update(kind_before=case.kind, kind="no_case" if no_case else kind)
    record_event(session, case, "reclassified",
                 f"{change_text}; {reason}" if reason.strip() else change_text,
                 actor, data, message_pk=opening.id if opening else None)
    kept = {r.right: r for r in case.rights}
    case.rights = [kept.get(right) or CaseRight(right=right) for right in rights]
    for position, row in enumerate(case.rights):
        row.position = position
    case.needs_review, case.review_reason = False, None
    if change.clock == ClockChange.KEEP:
        case.kind = kind
        return
    if change.clock == ClockChange.START:
        case.kind, case.target_date = "request", None
        session.flush()
        start_clock(session, case, mailbox.extra_holidays)
        return
    # A request (or a case to classify) that is a question or no case: no legal clock.
    if case.clock_suspended_on is not None:
        record_event(session, case, "clock_resumed", "no legal clock any more", actor,
                     {"on": brussels_day(now).isoformat()})
        case.clock_suspended_on, case.suspended_days_left = None, None
    why = "no case: no legal clock" if no_case else "a question has no legal clock"
    record_event(session, case, "clock_cancelled", why, actor,
                 {"due_before": case.due_date.isoformat() if case.due_date else None})
    case.due_date = None
    case.status = "open"
    if no_case:
        close(session, case, "no_case", staff_text(reason), actor, now)
        return
    case.kind = "question"
    case.target_date = (case.received_at.astimezone(BRUSSELS).date()
                        + timedelta(days=mailbox.question_service_days))


def receive_identity(
    session: Session,
    case: Case,
    mailbox: MailboxSettings,
    on: date,
    reason: str,
    actor: str,
    now: datetime,
    status: str = "id_copy",
    notify: bool = True,
    reply_to_pk: int | None = None,
) -> OutboxItem | None:
    """Proof of identity arrived on `on`: resume the clock and confirm the new due date.

    The confirmation is queued only when the clock was waiting for this proof and `notify` is
    true; it answers message `reply_to_pk` (a follow-up that brought the proof, then
    "auto-replied") or else the message that opened the case ("auto-generated").
    """
    reason = staff_text(reason)
    if not reason:
        raise WorkflowError("say how the proof came (e.g. \"copy of ID card by post\")")
    if status not in PROOF_STATUSES:
        raise WorkflowError(f"status must be one of {', '.join(sorted(PROOF_STATUSES))}")
    if case.status == "closed":
        raise WorkflowError(f"{case.reference} is closed: reopen it first")
    if on > brussels_day(now):
        raise WorkflowError(f"proof cannot arrive in the future ({on.isoformat()})")
    if case.clock_suspended_on is not None and on < case.clock_suspended_on:
        raise WorkflowError("proof cannot arrive before it was asked for "
                            f"({case.clock_suspended_on.isoformat()})")
    was_waiting = case.status == "awaiting_identity" and case.kind == "request"
    identity_received(session, case, mailbox.extra_holidays, on, reason, actor, status)
    if not (was_waiting and notify):
        return None
    if reply_to_pk is not None:
        reply_to, auto = session.get(Message, reply_to_pk), "auto-replied"
    else:
        reply_to, auto = first_message(session, case), "auto-generated"
    values = {"proof_date": on, "due_date": case.due_date}
    item = _queue(session, IDENTITY_CONFIRMATION, case, mailbox, reply_to, values, now, auto)
    record_event(session, case, "identity_confirmation_queued",
                 f"to the requester: due {case.due_date}, {item.message_id}", actor,
                 message_pk=reply_to.id if reply_to else None)
    return item


def extend_case(session: Session, case: Case, mailbox: MailboxSettings, reason: str, actor: str,
                now: datetime) -> tuple[date | None, OutboxItem]:
    """Extend by two months (Art. 12(3)) today and queue the notice with the reasons.

    Returns the new due date (None while the clock waits for identity: the confirmation will
    state it) and the queued notice. Raises ExtensionRefused when the law does not allow it.
    """
    if case.status == "closed":
        raise WorkflowError(f"{case.reference} is closed: there is nothing to extend")
    reasons = staff_text(reason)
    try:
        extend(session, case, mailbox.extra_holidays, brussels_day(now), reasons, actor)
    except WorkflowError as exc:
        if case.kind != "request":
            raise
        raise ExtensionRefused(str(exc)) from None
    due = None if case.clock_suspended_on is not None else case.due_date
    values = {"reasons": reasons, "due_date": due}
    item = _queue(session, EXTENSION_NOTICE, case, mailbox, first_message(session, case), values,
                  now, "auto-generated")
    record_event(session, case, "extension_notice_queued",
                 f"to the requester: due {due or 'after the proof of identity'}, "
                 f"{item.message_id}", actor)
    return due, item


def close_case(session: Session, case: Case, outcome: str, reason: str, actor: str,
               now: datetime) -> None:
    """Close with an outcome; records the answer date and whether it was on time."""
    close(session, case, outcome, staff_text(reason), actor, now)


def reopen(session: Session, case: Case, reason: str, actor: str) -> None:
    """Open a closed case again (e.g. the requester contests the answer); clears the outcome."""
    reason = staff_text(reason)
    if case.status != "closed":
        raise WorkflowError(f"{case.reference} is not closed")
    if not reason:
        raise WorkflowError("say why the case is reopened")
    before = {"outcome": case.outcome,
              "answered_on": case.answered_on.isoformat() if case.answered_on else None,
              "on_time": case.on_time}
    case.status = "awaiting_identity" if case.clock_suspended_on is not None else "open"
    case.outcome = case.answered_on = case.on_time = case.closed_at = None
    record_event(session, case, "reopened", reason, actor, {"before": before})


RESENDABLE = ("uncertain", "failed")


def resend(session: Session, case: Case, actor: str, now: datetime, reason: str = "",
           outbox_id: int | None = None) -> list[tuple[OutboxItem, str]]:
    """Queue again the case's replies whose delivery is uncertain or failed (or the one with
    this outbox id), after staff checked that they did not arrive. The same Message-ID goes
    out again, so a copy that did arrive after all is recognisable as the same message."""
    query = select(OutboxItem).where(OutboxItem.case_id == case.id).order_by(OutboxItem.id)
    if outbox_id is not None:
        query = query.where(OutboxItem.id == outbox_id)
    rows = [row for row in session.scalars(query) if row.status in RESENDABLE]
    if not rows:
        which = f"reply {outbox_id}" if outbox_id is not None else "reply"
        raise WorkflowError(f"{case.reference} has no uncertain or failed {which} to resend")
    reason = staff_text(reason) or "resent by staff: it had not arrived"
    done = []
    for row in rows:
        before = row.status
        row.status, row.next_attempt_at, row.attempts, row.claimed_at = "pending", now, 0, None
        record_event(session, case, f"{row.purpose}_resend", reason, actor,
                     {"outbox_id": row.id, "message_id": row.message_id, "before": before})
        done.append((row, before))
    return done


def _queue(session: Session, purpose: str, case: Case, mailbox: MailboxSettings,
           reply_to: Message | None, values: dict, now: datetime,
           auto_submitted: str) -> OutboxItem:
    try:
        return queue_notice(session, purpose, case, mailbox, reply_to, values, now,
                            auto_submitted)
    except ValueError as exc:
        raise WorkflowError(f"cannot write to the requester of {case.reference}: {exc}") from None
