"""Records one triaged message in the caller's transaction: message, case, events, outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from intake.cases.deadlines import BRUSSELS
from intake.cases.models import Case, CaseRight, Message, OutboxItem
from intake.cases.operations import receive_identity
from intake.cases.references import allocate_reference
from intake.cases.workflow import WorkflowError, record_event, start_clock, suspend_clock
from intake.config import MailboxSettings, SmtpSettings
from intake.message import ParsedMessage
from intake.outbound.outbox import pending_item
from intake.outbound.render import ReplyContext, build_acknowledgement
from intake.source.base import FetchedMessage
from intake.triage import FOLLOWUP, OPEN_QUESTION, OPEN_REQUEST, ROBOT, TriageResult

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "intake"


@dataclass(frozen=True)
class RecordOutcome:
    """What recording did: the case opened or joined, and whether a reply was queued."""

    status: str  # processed | duplicate
    case_reference: str | None = None
    opened_case: bool = False
    acknowledgement_queued: bool = False


def find_duplicate(session: Session, mailbox_key: str, msg: ParsedMessage) -> Message | None:
    """An earlier recording of the same mail: same content, or same Message-ID from the same sender.

    A Message-ID alone is not trusted: anyone can reuse one, and a forged match must not swallow a
    genuine request.
    """
    # A UNION of two indexed lookups rather than one OR, which would scan the mailbox's rows.
    mine = (Message.mailbox_key == mailbox_key, Message.status != "duplicate")
    candidates = select(Message.id).where(*mine, Message.content_hash == msg.content_hash)
    if msg.message_id:
        candidates = union_all(
            candidates,
            select(Message.id).where(
                *mine,
                Message.message_id == msg.message_id,
                Message.from_address == msg.from_address,
            ),
        )
    return session.scalars(
        select(Message).where(Message.id.in_(candidates)).order_by(Message.id).limit(1)
    ).first()


def record_message(
    session: Session,
    mailbox: MailboxSettings,
    smtp: SmtpSettings,
    fetched: FetchedMessage,
    msg: ParsedMessage,
    triage: TriageResult,
    now: datetime,
) -> RecordOutcome:
    """Record the message and everything it causes. The caller owns the transaction."""
    row = Message(
        mailbox_key=mailbox.key,
        folder=fetched.folder,
        uidvalidity=fetched.uidvalidity,
        uid=fetched.uid,
        message_id=msg.message_id,
        content_hash=msg.content_hash,
        received_at=fetched.internaldate,
        from_address=msg.from_address[:320],
        from_name=msg.from_name[:200],
        subject=msg.subject[:500],
        kind=triage.kind,
        disposition=triage.disposition,
        language=triage.language,
        triage=triage.to_json(),
        body_text=msg.text,
        status="processed",
    )
    earlier = find_duplicate(session, mailbox.key, msg)
    if earlier is not None:
        row.status, row.duplicate_of_id, row.case_id = "duplicate", earlier.id, earlier.case_id
        session.add(row)
        session.flush()
        _event(session, None, row, "duplicate_ignored", f"same mail as message #{earlier.id}")
        return RecordOutcome("duplicate")
    session.add(row)
    session.flush()

    disposition, review = triage.disposition, None
    if disposition == FOLLOWUP or (triage.thread.reply_to_ids and disposition != ROBOT):
        case, how = _thread_case(session, mailbox, triage)
        same_sender = case is not None and case.requester_address == msg.from_address
        if same_sender and not triage.identity.dmarc_failed:
            assert case is not None
            return _attach(session, mailbox, smtp, case, row, triage, how, now)
        if same_sender:
            # A forged From of the requester must not reach the case (DMARC failed).
            review = f"follow-up for {triage.case_ref or 'a case'} failed DMARC: not joined"
            log.warning("follow-up failed DMARC", extra={"case": case.reference})
        elif case is not None:
            # Someone else's mail names this case: never attach it (that would expose the case).
            review = "follow-up names another requester's case"
            log.warning("follow-up sender differs from requester", extra={"case": case.reference})
        if disposition == FOLLOWUP:
            disposition = OPEN_REQUEST if triage.rights else OPEN_QUESTION
            review = review or f"names unknown case {triage.case_ref}"

    if disposition not in (OPEN_REQUEST, OPEN_QUESTION):
        _event(session, None, row, "listed", f"{triage.kind}: {disposition}")
        return RecordOutcome("processed")

    case = _open_case(session, mailbox, row, msg, triage, disposition, review)
    queued = False
    if triage.guard.may_reply:
        queued = _queue_acknowledgement(session, mailbox, smtp, case, row, msg, triage, now)
    return RecordOutcome("processed", case.reference, True, queued)


def _thread_case(
    session: Session, mailbox: MailboxSettings, triage: TriageResult
) -> tuple[Case | None, str]:
    if triage.case_ref:
        case = session.scalars(
            select(Case).where(Case.reference == triage.case_ref, Case.mailbox_key == mailbox.key)
        ).first()
        if case is not None:
            return case, f"reference {triage.case_ref} in the subject"
    ids = list(triage.thread.reply_to_ids)
    if not ids:
        return None, ""
    case_id = (
        session.scalars(
            select(Message.case_id).where(
                Message.mailbox_key == mailbox.key,
                Message.message_id.in_(ids),
                Message.case_id.is_not(None),
            )
        ).first()
        or session.scalars(select(OutboxItem.case_id).where(OutboxItem.message_id.in_(ids))).first()
    )
    if case_id is None:
        return None, ""
    case = session.get(Case, case_id)
    if case is None or case.mailbox_key != mailbox.key:
        return None, ""
    return case, "reply headers (In-Reply-To/References)"


def _attach(
    session: Session,
    mailbox: MailboxSettings,
    smtp: SmtpSettings,
    case: Case,
    row: Message,
    triage: TriageResult,
    how: str,
    now: datetime,
) -> RecordOutcome:
    row.case_id, row.kind, row.disposition = case.id, "followup", FOLLOWUP
    reason = f"follow-up joined by {how}"
    further = [r for r in triage.rights if r not in case.right_names]
    if case.status == "closed":
        case.needs_review, case.review_reason = True, "follow-up on a closed case"
    elif further:
        # The case's rights change only by a person's decision (reclassification).
        case.needs_review = True
        case.review_reason = f"follow-up seems to exercise further rights: {', '.join(further)}"
    _event(session, case, row, "message_attached", reason)
    if case.status == "awaiting_identity" and triage.identity.is_proof:
        _proof_arrived(session, mailbox, smtp, case, row, triage, now)
    return RecordOutcome("processed", case.reference)


def _proof_arrived(
    session: Session,
    mailbox: MailboxSettings,
    smtp: SmtpSettings,
    case: Case,
    row: Message,
    triage: TriageResult,
    now: datetime,
) -> None:
    """The follow-up carries the proof the case waits for: the clock runs on from its arrival."""
    status = triage.identity.status
    recent = _replies_last_day(session, row.from_address, now)
    notify = triage.guard.may_reply and recent < smtp.replies_per_sender_per_day
    try:
        receive_identity(
            session, case, mailbox, row.received_at.astimezone(BRUSSELS).date(),
            f"proof of identity ({status}) in follow-up message {row.message_id or row.id}",
            SYSTEM_ACTOR, now, status=status, notify=notify, reply_to_pk=row.id,
        )
    except WorkflowError as exc:
        case.needs_review = True
        case.review_reason = f"follow-up with proof of identity: {exc}"[:300]
        log.warning("proof of identity not applied", extra={"case": case.reference})
        return
    if not notify:
        _event(session, case, row, "identity_confirmation_suppressed",
               f"reply limit reached: {recent} replies to this sender in 24 hours")


def _open_case(
    session: Session,
    mailbox: MailboxSettings,
    row: Message,
    msg: ParsedMessage,
    triage: TriageResult,
    disposition: str,
    review: str | None,
) -> Case:
    received_local = row.received_at.astimezone(BRUSSELS)
    reference, seq = allocate_reference(
        session, mailbox.key, mailbox.reference_prefix, received_local.year
    )
    is_request = disposition == OPEN_REQUEST
    case = Case(
        reference=reference,
        mailbox_key=mailbox.key,
        year=received_local.year,
        seq=seq,
        kind="request" if is_request else "question",
        status="open",
        requester_address=msg.from_address,
        requester_name=msg.from_name[:200],
        language=triage.language,
        received_at=row.received_at,
        identity_status=triage.identity.status,
        confidence=triage.confidence,
        needs_review=triage.needs_review or review is not None,
        review_reason=review or (_classification_review(triage) if triage.needs_review else None),
    )
    case.rights = [CaseRight(right=r, position=i) for i, r in enumerate(triage.rights)]
    session.add(case)
    session.flush()
    row.case_id = case.id
    _event(
        session,
        case,
        row,
        "opened",
        f"{case.kind} from message {row.message_id or row.id}",
        {"rights": list(triage.rights), "confidence": round(triage.confidence, 3)},
    )
    if is_request:
        due = start_clock(session, case, mailbox.extra_holidays)
        if identity_needed(mailbox, triage):
            # Proof is asked for in the acknowledgement, without undue delay, so the clock stops
            # on the day of receipt (EDPB 01/2022 §159) and runs on when the proof arrives.
            suspend_clock(
                session,
                case,
                mailbox.extra_holidays,
                received_local.date(),
                "identity proof requested in the acknowledgement",
                SYSTEM_ACTOR,
                current=due,
            )
    else:
        case.target_date = received_local.date() + timedelta(days=mailbox.question_service_days)
    return case


def identity_needed(mailbox: MailboxSettings, triage: TriageResult) -> bool:
    """Whether the rights exercised need proof of identity that the message does not carry."""
    wanted = set(mailbox.identity_required_for) & set(triage.rights)
    return bool(wanted) and not triage.identity.is_proof


def _queue_acknowledgement(
    session: Session,
    mailbox: MailboxSettings,
    smtp: SmtpSettings,
    case: Case,
    row: Message,
    msg: ParsedMessage,
    triage: TriageResult,
    now: datetime,
) -> bool:
    recent = _replies_last_day(session, msg.from_address, now)
    if recent >= smtp.replies_per_sender_per_day:
        _event(
            session,
            case,
            row,
            "acknowledgement_suppressed",
            f"reply limit reached: {recent} replies to this sender in 24 hours",
        )
        case.needs_review, case.review_reason = True, "reply limit reached for this sender"
        return False
    context = ReplyContext(
        kind=case.kind,
        reference=case.reference,
        received=row.received_at.astimezone(BRUSSELS),
        due=case.due_date,
        service_days=mailbox.question_service_days if case.kind == "question" else None,
        rights=case.right_names,
        identity_needed=case.status == "awaiting_identity",
        days_left_when_suspended=case.suspended_days_left,
        language=case.language,
        mailbox=mailbox,
    )
    reply = build_acknowledgement(context, msg, now=now)
    session.add(pending_item("acknowledgement", reply.message_id, mailbox.address,
                             msg.from_address, reply.raw, now, case.id, row.id))
    _event(session, case, row, "acknowledgement_queued", f"to the requester, {reply.message_id}")
    return True


def _replies_last_day(session: Session, address: str, now: datetime) -> int:
    """Replies queued to this address in the last 24 hours (the per-sender limit)."""
    return (
        session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.recipient == address,
                OutboxItem.created_at >= now - timedelta(days=1),
            )
        )
        or 0
    )


def _event(
    session: Session,
    case: Case | None,
    row: Message | None,
    type_: str,
    reason: str,
    data: dict | None = None,
) -> None:
    record_event(session, case, type_, reason, SYSTEM_ACTOR, data, row.id if row else None)


def _classification_review(triage: TriageResult) -> str:
    """Why the classifier asks for review, for the case and the digest (at most 300 characters)."""
    reasons = triage.classification.review_reasons
    return "; ".join(reasons)[:300] if reasons else "low confidence"
