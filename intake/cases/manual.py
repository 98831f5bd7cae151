"""Cases opened by a person: a request by post, phone or at the counter, or a listed message.

Same reference series, clock, register and audit trail as mail: the case is opened from a plan
of the decision stage (decide.py) and written by the recorder's clock code. A scanned letter is
read by the identity check and forgotten: only the finding (status, masked evidence) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy.orm import Session

from intake.cases.decide import Action, Clock, Plan, Reply
from intake.cases.recorder import SYSTEM_ACTOR, apply_clock
from intake.cases.references import allocate_reference
from intake.cases.workflow import WorkflowError, record_event
from intake.config import MailboxSettings
from intake.identity import IdentityChecker, IdentityFinding
from intake.message import ParsedMessage, parse_message
from intake.outbound.outbox import pending_item
from intake.outbound.render import ReplyContext, build_acknowledgement
from intake.store.enums import CaseKind, CaseStatus, Disposition
from intake.store.models import Case, CaseRight, Message, OutboxItem
from intake.store.timezone import BRUSSELS

MAX_SCAN_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Opened:
    case: Case
    acknowledgement: OutboxItem | None


def plan_for(kind: CaseKind, acknowledge: bool, suspend: bool = False) -> Plan:
    """The decision for a case a person opens: the kind they chose, its clock, a reply or none."""
    disposition = {CaseKind.REQUEST: Disposition.OPEN_REQUEST,
                   CaseKind.QUESTION: Disposition.OPEN_QUESTION,
                   CaseKind.TO_CLASSIFY: Disposition.TO_CLASSIFY}[kind]
    clock = {CaseKind.REQUEST: Clock.LEGAL, CaseKind.QUESTION: Clock.SERVICE,
             CaseKind.TO_CLASSIFY: Clock.PROVISIONAL}[kind]
    return Plan(Action.OPEN, disposition, case_kind=kind, clock=clock,
                suspend_for_identity=suspend,
                reply=Reply.ACKNOWLEDGEMENT if acknowledge else None,
                reasons=(f"opened by hand: {kind.value}",))


def parse_requester(text: str) -> tuple[str, str]:
    """("Name", "addr") from "Name <addr>" (the address may be empty for a letter by post)."""
    if "@" not in text:  # a name alone: a letter by post, a visit at the counter
        return text.strip()[:200], ""
    name, address = parseaddr(text.strip())
    if "@" not in address:
        raise WorkflowError(f"{text!r} is not \"Name <address>\"")
    return name.strip()[:200], address.strip().lower()[:320]


def check_scan(path: Path, checker: IdentityChecker) -> IdentityFinding:
    """The identity check on a scanned letter or ID copy; the bytes are not kept anywhere."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WorkflowError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SCAN_BYTES:
        raise WorkflowError(f"{path.name} is larger than {MAX_SCAN_BYTES // (1024 * 1024)} MB")
    carrier = EmailMessage()
    carrier["From"] = "scan@intake.invalid"
    carrier["Subject"] = "scan"
    carrier.set_content("scan")
    maintype, subtype = _type_of(path)
    carrier.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return checker.assess(parse_message(carrier.as_bytes()))


def _type_of(path: Path) -> tuple[str, str]:
    suffix = path.suffix.lower()
    return {".pdf": ("application", "pdf"), ".jpg": ("image", "jpeg"),
            ".jpeg": ("image", "jpeg"), ".png": ("image", "png"),
            ".tif": ("image", "tiff"), ".tiff": ("image", "tiff")}.get(
        suffix, ("application", "octet-stream"))


def open_case(
    session: Session,
    mailbox: MailboxSettings,
    *,
    received: datetime,
    requester_name: str,
    requester_address: str,
    rights: Sequence[str],
    kind: CaseKind,
    actor: str,
    now: datetime,
    reason: str,
    identity: IdentityFinding | None = None,
    message: Message | None = None,
    acknowledge: bool = False,
    language: str = "nl",
    review_reason: str | None = None,
    by_hand: bool = True,
) -> Opened:
    """Open a case by hand (or from a recorded message) in the caller's transaction.

    The worker opens one here too, `by_hand=False`, for a message it quarantined: a case to
    classify with its `review_reason`, acknowledged only when the processor's header checks
    allow it (`Processor._may_acknowledge_unread`)."""
    if received.tzinfo is None:
        raise WorkflowError("the receipt time needs a time zone")
    if received > now:
        raise WorkflowError(f"a request cannot be received in the future ({received:%Y-%m-%d})")
    if acknowledge and not requester_address:
        raise WorkflowError("an acknowledgement needs the requester's e-mail address")
    identity = identity or IdentityFinding()
    suspend = (kind == CaseKind.REQUEST and bool(set(mailbox.identity_required_for) & set(rights))
               and not identity.is_proof and acknowledge)
    plan = plan_for(kind, acknowledge, suspend)
    local = received.astimezone(BRUSSELS)
    reference, seq = allocate_reference(session, mailbox.key, mailbox.reference_prefix,
                                        local.year)
    case = Case(
        reference=reference, mailbox_key=mailbox.key, year=local.year, seq=seq, kind=kind.value,
        status=CaseStatus.OPEN.value, requester_address=requester_address,
        requester_name=requester_name, language=language, received_at=received,
        identity_status=identity.status, confidence=1.0,
        needs_review=kind == CaseKind.TO_CLASSIFY or review_reason is not None,
        review_reason=(review_reason or "to classify: opened by hand from a listed message"
                       if kind == CaseKind.TO_CLASSIFY else review_reason),
    )
    case.rights = [CaseRight(right=r, position=i) for i, r in enumerate(rights)]
    session.add(case)
    if message is not None:
        message.case = case
        message.disposition = plan.disposition
    session.flush()
    record_event(session, case, "opened", reason, actor,
                 {"rights": list(rights), "by_hand": by_hand,
                  "identity": identity.to_json()},
                 message.id if message is not None else None)
    apply_clock(session, case, mailbox, plan, local.date())
    item = None
    if plan.reply == Reply.ACKNOWLEDGEMENT:
        item = _acknowledge(session, case, mailbox, message, now)
    return Opened(case, item)


def _acknowledge(session: Session, case: Case, mailbox: MailboxSettings,
                 message: Message | None, now: datetime) -> OutboxItem:
    context = ReplyContext(
        kind=case.kind, reference=case.reference, received=case.received_at.astimezone(BRUSSELS),
        due=case.due_date,
        service_days=mailbox.question_service_days if case.kind == "question" else None,
        rights=case.right_names, identity_needed=case.status == "awaiting_identity",
        days_left_when_suspended=case.suspended_days_left, language=case.language,
        mailbox=mailbox,
    )
    incoming = _stand_in(case, message)
    try:
        reply = build_acknowledgement(context, incoming, now=now)
    except ValueError as exc:
        raise WorkflowError(f"cannot write to the requester of {case.reference}: {exc}") from None
    item = pending_item("acknowledgement", reply.message_id, mailbox.address,
                        case.requester_address, reply.raw, now, case.id,
                        message.id if message is not None else None)
    session.add(item)
    record_event(session, case, "acknowledgement_queued", f"to the requester, {reply.message_id}",
                 SYSTEM_ACTOR, message_pk=message.id if message is not None else None)
    return item


def _stand_in(case: Case, message: Message | None) -> ParsedMessage:
    """What the acknowledgement needs of the incoming mail: sender, subject, Message-ID."""
    return ParsedMessage(
        raw=b"", message_id=message.message_id if message else None,
        subject=message.subject if message else "", from_name=case.requester_name,
        from_address=case.requester_address, to=(), cc=(), reply_to=(), date_header=None,
        in_reply_to=(), references=(), headers={}, text="", html=None, attachments=(),
        authentication_results=(), content_type="text/plain", content_hash="", defects=(),
    )
