"""The case decision: what a triaged message legally means, as a plan. Pure code, no I/O.

Given the triage and what the recorder already knows (the case a reference or the reply headers
name, an earlier copy of the same mail, the replies the sender had in the last 24 hours), it
says whether to open a case, join one, only list the message or ignore a duplicate; which clock
runs; which reply to queue; and why. `BatchRecorder` (recorder.py) only writes the plan.

The fail-safe: a person's message that is not a recognised request, question or follow-up opens
a case *to classify* whose legal clock runs provisionally from receipt; only positive evidence
(the triage's `list_only`) or a robot keeps a message out of the case register.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from intake.store.enums import CaseKind, CaseStatus, Disposition
from intake.triage import TriageResult


class Action(StrEnum):
    OPEN = "open"  # a new case
    JOIN = "join"  # the message joins the case it names
    LIST = "list"  # recorded and listed for staff, no case, no reply
    DUPLICATE = "duplicate"  # the same mail was recorded before: nothing more happens


class Clock(StrEnum):
    LEGAL = "legal"  # Art. 12(3): one month from receipt
    PROVISIONAL = "provisional"  # the legal clock, until staff say what the message is
    SERVICE = "service"  # a question's service target, no legal deadline
    NONE = "none"  # no clock starts (join, list, duplicate)


class Reply(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    IDENTITY_CONFIRMATION = "identity_confirmation"  # proof arrived in a follow-up


@dataclass(frozen=True)
class KnownCase:
    """What the recorder found about the case a message names (none of it is the ORM row)."""

    reference: str
    requester_address: str
    status: str
    rights: tuple[str, ...]
    how: str  # "reference DPO-AGO-2026-0001 in the subject" | "reply headers (…)"


@dataclass(frozen=True)
class Known:
    """What is already known about a message before deciding."""

    sender: str  # the From address, lower case
    thread_case: KnownCase | None = None
    earlier_copy: int | None = None  # the id of an earlier recording of the same mail
    recent_replies: int = 0  # replies queued to the sender in the last 24 hours


@dataclass(frozen=True)
class Plan:
    """What recording a message does, and why. `events` are (type, reason) pairs the recorder
    writes after the action's own events (opened, clock_started, message_attached …)."""

    action: Action
    disposition: Disposition  # what the message row records
    case_kind: CaseKind | None = None  # for OPEN
    clock: Clock = Clock.NONE
    suspend_for_identity: bool = False  # the acknowledgement asks for proof: clock stops
    reply: Reply | None = None
    review: str | None = None  # the case (opened or joined) needs a person: why
    events: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()
    proof_arrived: bool = False  # JOIN: the follow-up brings the proof the case waits for

    @property
    def opens(self) -> bool:
        return self.action == Action.OPEN


_KIND_OF = {
    Disposition.OPEN_REQUEST: CaseKind.REQUEST,
    Disposition.OPEN_QUESTION: CaseKind.QUESTION,
    Disposition.TO_CLASSIFY: CaseKind.TO_CLASSIFY,
}
_CLOCK_OF = {
    CaseKind.REQUEST: Clock.LEGAL,
    CaseKind.QUESTION: Clock.SERVICE,
    CaseKind.TO_CLASSIFY: Clock.PROVISIONAL,
}
NOT_VERIFIED = "sender not verified"


def decide(
    triage: TriageResult,
    known: Known,
    *,
    identity_required_for: Collection[str] = (),
    replies_per_day: int = 5,
) -> Plan:
    """The plan for one message; see the module docstring."""
    if known.earlier_copy is not None:
        return Plan(Action.DUPLICATE, Disposition(triage.disposition),
                    events=(("duplicate_ignored", f"same mail as message #{known.earlier_copy}"),),
                    reasons=("an earlier copy of this mail was recorded",))

    disposition = Disposition(triage.disposition)
    reasons: list[str] = []
    review: str | None = None
    threaded = bool(triage.thread.reply_to_ids) and disposition != Disposition.ROBOT
    if disposition == Disposition.FOLLOWUP or threaded:
        case = known.thread_case
        same_sender = case is not None and case.requester_address == known.sender
        if case is not None and same_sender and not triage.identity.dmarc_failed:
            return _join(triage, known, case, replies_per_day)
        if case is not None and same_sender:
            # A forged From of the requester must not reach the case (DMARC failed).
            review = f"follow-up for {triage.case_ref or case.reference} failed DMARC: not joined"
        elif case is not None:
            # Someone else's mail names this case: never attach it (that would expose it).
            review = "follow-up names another requester's case"
        if disposition == Disposition.FOLLOWUP:
            disposition = _own_disposition(triage)
            review = review or f"names unknown case {triage.case_ref}"
            reasons.append(f"names a case it cannot join: treated as {disposition.value}")

    if disposition in (Disposition.LIST_ONLY, Disposition.ROBOT):
        why = triage.no_case.explanation if triage.no_case else f"{triage.kind}: {disposition}"
        if triage.no_case:
            why = f"{triage.kind}: {disposition}; {why}"
        return Plan(Action.LIST, disposition, events=(("listed", why),),
                    reasons=(*reasons, why))

    kind = _KIND_OF[disposition]
    clock = _CLOCK_OF[kind]
    reasons.append(f"opens a case ({kind.value}), clock {clock.value}")
    suspend = kind == CaseKind.REQUEST and _identity_needed(triage, identity_required_for)
    if suspend:
        reasons.append("proof of identity is asked for: the clock stops on the day of receipt")
    reviews = [review] if review else []
    if kind == CaseKind.TO_CLASSIFY:
        reviews.append("to classify: not recognised as a request or question; "
                       "the legal clock runs provisionally from receipt")
    elif triage.needs_review:
        reviews.append(_classification_review(triage))
    events: list[tuple[str, str]] = []
    reply: Reply | None = None
    if triage.sender_unverified:
        reviews.insert(0, f"{NOT_VERIFIED}: DMARC failed under p={triage.dmarc_policy}")
        events.append(("acknowledgement_withheld",
                       f"{NOT_VERIFIED}: DMARC failed under p={triage.dmarc_policy}; an answer "
                       "could reach a spoofed address"))
        reasons.append("no acknowledgement: sender not verified")
    elif not triage.guard.may_reply:
        reasons.append("no acknowledgement: no usable sender address")
    elif known.recent_replies >= replies_per_day:
        events.append(("acknowledgement_suppressed",
                       f"reply limit reached: {known.recent_replies} replies to this sender "
                       "in 24 hours"))
        reviews.append("reply limit reached for this sender")
        reasons.append("no acknowledgement: reply limit reached")
    else:
        reply = Reply.ACKNOWLEDGEMENT
    return Plan(
        Action.OPEN, disposition, case_kind=kind, clock=clock, suspend_for_identity=suspend,
        reply=reply, review="; ".join(reviews)[:300] if reviews else None,
        events=tuple(events), reasons=tuple(reasons),
    )


def _join(triage: TriageResult, known: Known, case: KnownCase, replies_per_day: int) -> Plan:
    review = None
    further = [r for r in triage.rights if r not in case.rights]
    if case.status == CaseStatus.CLOSED:
        review = "follow-up on a closed case"
    elif further:
        # The case's rights change only by a person's decision (reclassification).
        review = f"follow-up seems to exercise further rights: {', '.join(further)}"
    proof = case.status == CaseStatus.AWAITING_IDENTITY and triage.identity.is_proof
    events: list[tuple[str, str]] = []
    reply = None
    if proof:
        if triage.guard.may_reply and known.recent_replies < replies_per_day:
            reply = Reply.IDENTITY_CONFIRMATION
        else:
            events.append(("identity_confirmation_suppressed",
                           f"reply limit reached: {known.recent_replies} replies to this sender "
                           "in 24 hours"))
    return Plan(
        Action.JOIN, Disposition.FOLLOWUP, review=review, reply=reply, events=tuple(events),
        reasons=(f"follow-up joined by {case.how}",), proof_arrived=proof,
    )


def _own_disposition(triage: TriageResult) -> Disposition:
    """What a follow-up that cannot join its case is on its own."""
    if triage.rights:
        return Disposition.OPEN_REQUEST
    if triage.classification.topic == "question":
        return Disposition.OPEN_QUESTION
    return Disposition.TO_CLASSIFY


def _identity_needed(triage: TriageResult, identity_required_for: Collection[str]) -> bool:
    wanted = set(identity_required_for) & set(triage.rights)
    return bool(wanted) and not triage.identity.is_proof


def _classification_review(triage: TriageResult) -> str:
    """Why the classifier asks for review, for the case and the digest (at most 300 characters)."""
    reasons = triage.classification.review_reasons
    return "; ".join(reasons)[:300] if reasons else "low confidence"


class ClockChange(StrEnum):
    KEEP = "keep"  # the clock goes on as it is (a case to classify that is a request: receipt)
    START = "start"  # a question becomes a request: the legal clock from the day of receipt
    CANCEL = "cancel"  # no legal clock any more (a question, or no case at all)


@dataclass(frozen=True)
class Reclassification:
    """What a person's reclassification does to a case."""

    kind: CaseKind | None  # None: no case (closed with a reason)
    clock: ClockChange
    close: bool = False


def decide_reclassification(kind: str, rights: Collection[str], no_case: bool = False
                            ) -> Reclassification:
    """Staff say what a case is: a request (rights given), a question (none) or no case at all.

    A case to classify that is a request keeps its clock (it has run from receipt all along);
    a question that becomes a request starts it from the day of receipt; a case that is a
    question or no case loses the legal clock. Only a case to classify can become no case:
    any other case is closed with an outcome.
    """
    if no_case:
        if kind != CaseKind.TO_CLASSIFY:
            raise ValueError(f"only a case to classify can become no case (this is a {kind}); "
                             "close it with an outcome instead")
        return Reclassification(None, ClockChange.CANCEL, close=True)
    if rights:
        clock = ClockChange.START if kind == CaseKind.QUESTION else ClockChange.KEEP
        return Reclassification(CaseKind.REQUEST, clock)
    clock = ClockChange.KEEP if kind == CaseKind.QUESTION else ClockChange.CANCEL
    return Reclassification(CaseKind.QUESTION, clock)
