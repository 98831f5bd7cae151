"""Records triaged messages in the caller's transaction: message, case, events, outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session, load_only

from intake.cases.decide import Action, Clock, Known, KnownCase, Plan, Reply, decide
from intake.cases.operations import receive_identity
from intake.cases.references import ReferenceBlock
from intake.cases.workflow import WorkflowError, record_event, start_clock, suspend_clock
from intake.config import MailboxSettings, SmtpSettings
from intake.message import ParsedMessage
from intake.outbound.outbox import pending_item
from intake.outbound.render import ReplyContext, build_acknowledgement
from intake.source.base import FetchedMessage
from intake.store.enums import CaseStatus
from intake.store.models import Case, CaseRight, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from intake.triage import FOLLOWUP, ROBOT, TriageResult

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "intake"


@dataclass(frozen=True)
class RecordOutcome:
    """What recording did: the case opened or joined, and whether a reply was queued."""

    status: str  # processed | duplicate
    case_reference: str | None = None
    opened_case: bool = False
    acknowledgement_queued: bool = False


Item = tuple[FetchedMessage, ParsedMessage, TriageResult]
# Reply-limit timestamps are read once per batch from a little before the first message's day
# window, so a clock that moves on (or back) a little during the batch changes nothing.
_CLOCK_SLACK = timedelta(hours=1)


class EarlierMail:
    """Earlier recordings of a batch's mail: same content, or same Message-ID from the same sender.

    A Message-ID alone is not trusted: anyone can reuse one, and a forged match must not swallow a
    genuine request. The database's matches are read once per batch; the batch's own rows join as
    they are recorded, so the same mail twice in one batch is recognised too.
    """

    def __init__(self, session: Session, mailbox_key: str, messages: Sequence[ParsedMessage]):
        self._stored_by_hash: dict[str, Message] = {}
        self._stored_by_id: dict[tuple[str, str], Message] = {}
        self._keep(_stored_matches(session, mailbox_key, [m.content_hash for m in messages],
                                   [m.message_id for m in messages if m.message_id]))
        self._batch: list[Message] = []
        self._index_batch()

    def find(self, msg: ParsedMessage) -> Message | None:
        """The first such recording (lowest id), or None."""
        return self.find_by(msg.content_hash, msg.message_id, msg.from_address)

    def find_by(self, content_hash: str, message_id: str | None,
                from_address: str) -> Message | None:
        """`find` by the three values it compares (for a message that is not parsed)."""
        key = (message_id, from_address) if message_id else None
        stored = [self._stored_by_hash.get(content_hash), self._stored_by_id.get(key)]
        found = [row for row in stored if row is not None]
        if found:  # stored rows come before the batch's own
            return min(found, key=lambda row: row.id)
        ours = [self._batch_by_hash.get(content_hash), self._batch_by_id.get(key)]
        positions = [position for position in ours if position is not None]
        return self._batch[min(positions)] if positions else None

    def load(self, session: Session, mailbox_key: str, content_hash: str,
             message_id: str | None) -> None:
        """Read the stored matches of one more message (one not in the batch's first query)."""
        self._keep(_stored_matches(session, mailbox_key, [content_hash],
                                   [message_id] if message_id else []))

    def _keep(self, rows: Sequence[Message]) -> None:
        """Index stored rows by content hash and by (Message-ID, sender); the oldest wins."""
        for row in rows:
            self._stored_by_hash.setdefault(row.content_hash, row)
            if row.message_id:
                self._stored_by_id.setdefault((row.message_id, row.from_address), row)

    def add(self, row: Message) -> None:
        """A row of this batch that a later copy of the same mail would be a duplicate of."""
        self._batch.append(row)
        self._index(len(self._batch) - 1, row)

    def mark(self) -> int:
        return len(self._batch)

    def rewind(self, mark: int) -> None:
        """Forget the rows added since `mark` (their savepoint was rolled back)."""
        del self._batch[mark:]
        self._index_batch()

    def _index_batch(self) -> None:
        self._batch_by_hash: dict[str, int] = {}
        self._batch_by_id: dict[tuple[str, str] | None, int] = {}
        for position, row in enumerate(self._batch):
            self._index(position, row)

    def _index(self, position: int, row: Message) -> None:
        self._batch_by_hash.setdefault(row.content_hash, position)
        if row.message_id:
            self._batch_by_id.setdefault((row.message_id, row.from_address), position)


def _stored_matches(
    session: Session, mailbox_key: str, hashes: Sequence[str], ids: Sequence[str]
) -> list[Message]:
    """Recorded rows (not themselves duplicates) sharing one of the content `hashes` or the
    Message-`ids`, oldest first: one query for the batch."""
    hashes = sorted(set(hashes))
    ids = sorted(set(ids))
    if not hashes:
        return []
    # A UNION of two indexed lookups rather than one OR, which would scan the mailbox's rows.
    mine = (Message.mailbox_key == mailbox_key, Message.status != "duplicate")
    candidates = select(Message.id).where(*mine, Message.content_hash.in_(hashes))
    if ids:
        candidates = union_all(
            candidates, select(Message.id).where(*mine, Message.message_id.in_(ids))
        )
    columns = (Message.id, Message.case_id, Message.content_hash, Message.message_id,
               Message.from_address)
    return list(
        session.scalars(
            select(Message)
            .options(load_only(*columns))
            .where(Message.id.in_(candidates))
            .order_by(Message.id)
        )
    )


class RecentReplies:
    """Replies queued per address in the last 24 hours (the per-sender limit), read once per
    batch and counted on in memory as the batch queues more."""

    def __init__(self, session: Session, addresses: Collection[str], now: datetime) -> None:
        self._stored: dict[str, list[datetime]] = {}
        if addresses:
            rows = session.execute(
                select(OutboxItem.recipient, OutboxItem.created_at).where(
                    OutboxItem.recipient.in_(sorted(addresses)),
                    OutboxItem.created_at >= now - timedelta(days=1) - _CLOCK_SLACK,
                )
            )
            for recipient, created_at in rows:
                self._stored.setdefault(recipient, []).append(created_at)
        self._added: list[tuple[str, datetime]] = []

    def count(self, address: str, now: datetime) -> int:
        since = now - timedelta(days=1)
        stored = sum(at >= since for at in self._stored.get(address, ()))
        return stored + sum(to == address and at >= since for to, at in self._added)

    def add(self, address: str, at: datetime) -> None:
        self._added.append((address, at))

    def mark(self) -> int:
        return len(self._added)

    def rewind(self, mark: int) -> None:
        del self._added[mark:]


class BatchRecorder:
    """Records the messages of one batch in the caller's transaction.

    Duplicates and reply limits are looked up once for the batch; a run of messages is recorded
    with one flush for its message rows and one for its cases and events, instead of several
    statements per message. Rows get their ids in the order of the messages, as before.
    """

    def __init__(
        self,
        session: Session,
        mailbox: MailboxSettings,
        smtp: SmtpSettings,
        messages: Sequence[ParsedMessage],
        now: datetime,
    ) -> None:
        self.session, self.mailbox, self.smtp = session, mailbox, smtp
        self._earlier = EarlierMail(session, mailbox.key, messages)
        self._replies = RecentReplies(session, {m.from_address for m in messages}, now)
        # Acknowledgements waiting for the id of their new case, in the order they were queued.
        self._outbox: list[tuple[OutboxItem, Case]] = []
        # Rows of the current run whose new case has no id yet (a duplicate may point to it).
        self._opened: dict[Message, Case] = {}

    def remember(self, row: Message) -> None:
        """A row recorded beside the recorder (a quarantined message): it can be duplicated."""
        self._earlier.add(row)

    def earlier_copy(self, content_hash: str, message_id: str | None,
                     from_address: str) -> Message | None:
        """The first recording of the same mail, stored or of this batch, for a message that is
        recorded beside the recorder (quarantined, not read): call before adding its row."""
        self._earlier.load(self.session, self.mailbox.key, content_hash, message_id)
        return self._earlier.find_by(content_hash, message_id, from_address)

    def record(self, items: Sequence[Item], now: Callable[[], datetime]) -> list[RecordOutcome]:
        """Record a run of messages, in order; on an error nothing of the run is remembered."""
        marks = self._earlier.mark(), self._replies.mark()
        try:
            return self._record(items, now)
        except BaseException:
            self._earlier.rewind(marks[0])
            self._replies.rewind(marks[1])
            self._outbox.clear()
            self._opened.clear()
            raise

    def _record(self, items: Sequence[Item], now: Callable[[], datetime]) -> list[RecordOutcome]:
        rows = [self._add_row(fetched, msg, triage) for fetched, msg, triage in items]
        self.session.flush()  # the message ids, in order, in one statement
        references = ReferenceBlock(self.session)
        outcomes = [
            self._record_one(row, earlier, msg, triage, now(), references)
            for (row, earlier), (_fetched, msg, triage) in zip(rows, items, strict=True)
        ]
        references.close()
        self._release_outbox()
        self.session.flush()
        self._opened.clear()
        return outcomes

    def _add_row(
        self, fetched: FetchedMessage, msg: ParsedMessage, triage: TriageResult
    ) -> tuple[Message, Message | None]:
        row = Message(
            mailbox_key=self.mailbox.key,
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
        earlier = self._earlier.find(msg)
        if earlier is None:
            self._earlier.add(row)
        else:
            row.status = "duplicate"
        self.session.add(row)
        return row, earlier

    def _record_one(
        self,
        row: Message,
        earlier: Message | None,
        msg: ParsedMessage,
        triage: TriageResult,
        now: datetime,
        references: ReferenceBlock,
    ) -> RecordOutcome:
        if earlier is not None:
            plan = decide(triage, Known(msg.from_address, earlier_copy=earlier.id))
            return self._duplicate(row, earlier, plan)
        case: Case | None = None
        known_case: KnownCase | None = None
        if triage.disposition == FOLLOWUP or (triage.thread.reply_to_ids
                                              and triage.disposition != ROBOT):
            case, how = self._thread_case(triage)
            if case is not None:
                known_case = KnownCase(case.reference, case.requester_address, case.status,
                                       case.right_names, how)
        known = Known(msg.from_address, thread_case=known_case,
                      recent_replies=self._replies.count(msg.from_address, now))
        plan = decide(triage, known, identity_required_for=self.mailbox.identity_required_for,
                      replies_per_day=self.smtp.replies_per_sender_per_day)
        if plan.action == Action.JOIN:
            assert case is not None
            return self._attach(case, row, triage, plan, now)
        if known_case is not None and plan.review:
            log.warning("follow-up not joined", extra={"case": known_case.reference})
        if plan.action == Action.LIST:
            row.disposition = plan.disposition
            self._write_events(None, row, plan)
            return RecordOutcome("processed")

        row.disposition = plan.disposition
        case = self._open_case(row, msg, triage, plan, references)
        self._write_events(case, row, plan)
        queued = False
        if plan.reply == Reply.ACKNOWLEDGEMENT:
            queued = self._queue_acknowledgement(case, row, msg, triage, now)
        return RecordOutcome("processed", case.reference, True, queued)

    def _write_events(self, case: Case | None, row: Message, plan: Plan) -> None:
        for type_, reason in plan.events:
            _event(self.session, case, row, type_, reason)

    def _duplicate(self, row: Message, earlier: Message, plan: Plan) -> RecordOutcome:
        row.duplicate_of_id = earlier.id
        if earlier.case_id is not None:
            row.case_id = earlier.case_id
        elif earlier in self._opened:
            row.case = self._opened[earlier]
        self._write_events(None, row, plan)
        return RecordOutcome("duplicate")

    def _release_outbox(self) -> None:
        """Add the waiting acknowledgements, now that a flush has given their cases an id."""
        if not self._outbox:
            return
        self.session.flush()
        for item, case in self._outbox:
            item.case_id = case.id
            self.session.add(item)
        self._outbox.clear()

    def _thread_case(self, triage: TriageResult) -> tuple[Case | None, str]:
        session, mailbox = self.session, self.mailbox
        if triage.case_ref:
            case = session.scalars(
                select(Case).where(
                    Case.reference == triage.case_ref, Case.mailbox_key == mailbox.key
                )
            ).first()
            if case is not None:
                return case, f"reference {triage.case_ref} in the subject"
        ids = list(triage.thread.reply_to_ids)
        if not ids:
            return None, ""
        if any(item.message_id in ids for item, _case in self._outbox):
            self._release_outbox()  # a reply to an acknowledgement of this very batch
        case_id = (
            session.scalars(
                select(Message.case_id).where(
                    Message.mailbox_key == mailbox.key,
                    Message.message_id.in_(ids),
                    Message.case_id.is_not(None),
                )
            ).first()
            or session.scalars(
                select(OutboxItem.case_id).where(OutboxItem.message_id.in_(ids))
            ).first()
        )
        if case_id is None:
            return None, ""
        case = session.get(Case, case_id)
        if case is None or case.mailbox_key != mailbox.key:
            return None, ""
        return case, "reply headers (In-Reply-To/References)"

    def _attach(
        self, case: Case, row: Message, triage: TriageResult, plan: Plan, now: datetime
    ) -> RecordOutcome:
        row.case_id, row.kind, row.disposition = case.id, "followup", FOLLOWUP
        if plan.review:
            case.needs_review, case.review_reason = True, plan.review
        _event(self.session, case, row, "message_attached", plan.reasons[0])
        if plan.proof_arrived:
            self._proof_arrived(case, row, triage, plan, now)
        return RecordOutcome("processed", case.reference)

    def _proof_arrived(
        self, case: Case, row: Message, triage: TriageResult, plan: Plan, now: datetime
    ) -> None:
        """The follow-up carries the proof the case waits for: the clock runs on from then."""
        self._release_outbox()  # replies keep the order in which they were queued
        status = triage.identity.status
        notify = plan.reply == Reply.IDENTITY_CONFIRMATION
        try:
            item = receive_identity(
                self.session, case, self.mailbox, row.received_at.astimezone(BRUSSELS).date(),
                f"proof of identity ({status}) in follow-up message {row.message_id or row.id}",
                SYSTEM_ACTOR, now, status=status, notify=notify, reply_to_pk=row.id,
            )
        except WorkflowError as exc:
            case.needs_review = True
            case.review_reason = f"follow-up with proof of identity: {exc}"[:300]
            log.warning("proof of identity not applied", extra={"case": case.reference})
            return
        if item is not None:
            self._replies.add(item.recipient, item.created_at)
        self._write_events(case, row, plan)

    def _open_case(
        self,
        row: Message,
        msg: ParsedMessage,
        triage: TriageResult,
        plan: Plan,
        references: ReferenceBlock,
    ) -> Case:
        mailbox = self.mailbox
        received_local = row.received_at.astimezone(BRUSSELS)
        reference, seq = references.allocate(
            mailbox.key, mailbox.reference_prefix, received_local.year
        )
        assert plan.case_kind is not None
        case = Case(
            reference=reference,
            mailbox_key=mailbox.key,
            year=received_local.year,
            seq=seq,
            kind=plan.case_kind.value,
            status=CaseStatus.OPEN.value,
            requester_address=msg.from_address,
            requester_name=msg.from_name[:200],
            language=triage.language,
            received_at=row.received_at,
            identity_status=triage.identity.status,
            confidence=triage.confidence,
            needs_review=plan.review is not None,
            review_reason=plan.review,
        )
        case.rights = [CaseRight(right=r, position=i) for i, r in enumerate(triage.rights)]
        self.session.add(case)
        row.case = case  # the id comes with the run's flush
        self._opened[row] = case
        _event(
            self.session,
            case,
            row,
            "opened",
            f"{case.kind} from message {row.message_id or row.id}",
            {"rights": list(triage.rights), "confidence": round(triage.confidence, 3)},
        )
        apply_clock(self.session, case, mailbox, plan, received_local.date())
        return case

    def _queue_acknowledgement(
        self, case: Case, row: Message, msg: ParsedMessage, triage: TriageResult, now: datetime
    ) -> bool:
        mailbox = self.mailbox
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
        item = pending_item("acknowledgement", reply.message_id, mailbox.address,
                            msg.from_address, reply.raw, now, None, row.id)
        self._outbox.append((item, case))
        self._replies.add(msg.from_address, now)
        _event(self.session, case, row, "acknowledgement_queued",
               f"to the requester, {reply.message_id}")
        return True


def record_message(
    session: Session,
    mailbox: MailboxSettings,
    smtp: SmtpSettings,
    fetched: FetchedMessage,
    msg: ParsedMessage,
    triage: TriageResult,
    now: datetime,
) -> RecordOutcome:
    """Record one message and everything it causes. The caller owns the transaction."""
    recorder = BatchRecorder(session, mailbox, smtp, [msg], now)
    return recorder.record([(fetched, msg, triage)], lambda: now)[0]


def apply_clock(session: Session, case: Case, mailbox: MailboxSettings, plan: Plan,
                received: date) -> None:
    """Start the clock the plan names for a case just opened (mail or by hand)."""
    if plan.clock in (Clock.LEGAL, Clock.PROVISIONAL):
        due = start_clock(session, case, mailbox.extra_holidays)
        if plan.suspend_for_identity:
            # Proof is asked for in the acknowledgement, without undue delay, so the clock
            # stops on the day of receipt (EDPB 01/2022 §159) and runs on when it arrives.
            suspend_clock(session, case, mailbox.extra_holidays, received,
                          "identity proof requested in the acknowledgement", SYSTEM_ACTOR,
                          current=due)
    elif plan.clock == Clock.SERVICE:
        case.target_date = received + timedelta(days=mailbox.question_service_days)


def identity_needed(mailbox: MailboxSettings, triage: TriageResult) -> bool:
    """Whether the rights exercised need proof of identity that the message does not carry."""
    wanted = set(mailbox.identity_required_for) & set(triage.rights)
    return bool(wanted) and not triage.identity.is_proof


def _event(
    session: Session,
    case: Case | None,
    row: Message | None,
    type_: str,
    reason: str,
    data: dict | None = None,
) -> None:
    record_event(session, case, type_, reason, SYSTEM_ACTOR, data, row.id if row else None)
