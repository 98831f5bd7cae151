"""The sender job: delivers queued replies once, records the result, retries with backoff.

One reply at a time: it is claimed ("claimed", committed) just before its SMTP transaction,
marked "in_smtp" (committed) once the server accepted the envelope and just before DATA, and
its result is committed right after. Only one sender runs at a time (a lock that dies with its
holder, intake.store.locks), so whatever a sender finds claimed or in_smtp when it starts was
left by a dead one: a "claimed" reply never reached DATA and goes back to pending; an "in_smtp"
reply may have been taken by the server, so it becomes "uncertain" — resolved to "sent" when
its Message-ID is found (e.g. in the Sent folder), otherwise left for staff
(`intake cases resend`). Never sent twice automatically; never lost without a trace.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from intake.outbound.transport import TransportError
from intake.store.locks import locks_for_sessions
from intake.store.models import Case, Event, OutboxItem

log = logging.getLogger(__name__)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
SERVER_STAGES = frozenset({"connect", "tls", "auth"})
SENDER_LOCK = "outbox-sender"
# "sending" is what the batching sender (before one-at-a-time claims) wrote for a whole group:
# such a row may have been delivered, so it is treated like "in_smtp".
IN_SMTP = ("in_smtp", "sending")
# Points where tests (and bench/chaos.py, through intake.faults) interrupt the sender.
FAULT_POINTS = ("after_claim", "before_data", "after_data", "after_record")


class Transport(Protocol):
    def send(
        self,
        mail_from: str,
        recipients: list[str],
        data: bytes,
        before_data: Callable[[], None] | None = None,
    ) -> str: ...


# (mail_from, message_id) -> True when that message is known to have gone out (found in the
# Sent folder), False when not found; raises when it cannot tell (server unreachable).
SentLookup = Callable[[str, str], bool]
FaultHook = Callable[[str, int], None]
Carry = Callable[[Session], None]  # a reply's result, to commit with the next claim


def pending_item(
    purpose: str,
    message_id: str,
    mail_from: str,
    recipient: str,
    raw: bytes,
    now: datetime,
    case_id: int | None = None,
    reply_to_pk: int | None = None,
) -> OutboxItem:
    """A new outbox row, due at once; the caller adds it in the transaction that caused it."""
    return OutboxItem(
        case_id=case_id,
        reply_to_pk=reply_to_pk,
        purpose=purpose,
        message_id=message_id,
        mail_from=mail_from,
        recipient=recipient,
        raw=raw,
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )

class DeliveryJournal:
    """A local file noting each reply the server accepted, written before the database hears
    of it: a sender killed between the server's "250" and the database commit leaves its
    successor on this host the answer, so the reply is resolved to sent, not uncertain.
    One file per database; emptied by the next sender once it has used it.

    Not fsynced: the kernel keeps a dead process's writes, which is what this is for; after a
    power cut a missing line only means "uncertain" (the safe side), as without a journal."""

    def __init__(self, directory: str | os.PathLike[str], database_url: str) -> None:
        tag = hashlib.blake2b(database_url.encode(), digest_size=6).hexdigest()
        self.path = Path(directory) / f"outbox-{tag}.journal"

    def accepted(self, item_id: int, message_id: str, reply: str) -> None:
        line = json.dumps({"id": item_id, "message_id": message_id, "reply": reply[:200]})
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.encode() + b"\n")
        finally:
            os.close(fd)

    def entries(self) -> dict[int, tuple[str, str]]:
        """outbox id -> (Message-ID, the server's reply); a torn last line is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return {}
        found: dict[int, tuple[str, str]] = {}
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                found[int(entry["id"])] = (str(entry["message_id"]), str(entry["reply"]))
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def clear(self) -> None:
        if self.path.exists():
            with open(self.path, "r+b") as handle:
                handle.truncate(0)
                os.fsync(handle.fileno())


@dataclass
class FlushStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    requeued: int = 0  # claimed by a sender that died before DATA: back to pending
    busy: bool = False  # another sender held the sender lock: nothing was done here
    transport_error: str | None = None  # the server or its settings failed: nothing was tried

    def add(self, other: FlushStats) -> None:
        """Fold the counts of a later flush into these."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.uncertain += other.uncertain
        self.requeued += other.requeued
        self.transport_error = other.transport_error or self.transport_error


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after each failed attempt, at most six hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def flush_outbox(
    sessions: sessionmaker[Session],
    open_transport: Callable[[], AbstractContextManager[Transport]],
    max_attempts: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: threading.Event | None = None,
    limit: int = 500,
    resolver: SentLookup | None = None,
    fault_hook: FaultHook | None = None,
    journal: DeliveryJournal | None = None,
) -> FlushStats:
    """Deliver every due reply, one claim and one commit each, over one transport connection.

    Returns at once (busy=True) when another sender holds the sender lock: it delivers them.
    """
    stats = FlushStats()
    lock = locks_for_sessions(sessions).try_acquire(SENDER_LOCK)
    if lock is None:
        stats.busy = True
        return stats
    try:
        stats.requeued, stats.uncertain = recover(sessions, now(), resolver, journal)
        done: set[int] = set()
        # With a journal, a reply's result is committed together with the next claim (one
        # commit per reply instead of two); the journal covers a death in between.
        carry: Carry | None = None
        with open_transport() as transport:  # connects at the first send, if any
            while not _stopped(stop) and stats.transport_error is None:
                due = _due(sessions, now(), limit, done)
                if not due:
                    break
                for item_id in due:
                    if _stopped(stop) or stats.transport_error is not None:
                        break
                    done.add(item_id)
                    carry = _deliver_one(sessions, transport, item_id, max_attempts, now,
                                         stats, fault_hook, journal, carry)
            if carry is not None:
                with sessions() as session, session.begin():
                    carry(session)
    finally:
        lock.release()
    if stats.sent or stats.retried or stats.failed:
        log.info("replies delivered",
                 extra={"sent": stats.sent, "retried": stats.retried, "failed": stats.failed})
    return stats


def _stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _due(sessions: sessionmaker[Session], at: datetime, limit: int, done: set[int]) -> list[int]:
    with sessions() as session:
        return [
            i
            for i in session.scalars(
                select(OutboxItem.id)
                .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= at)
                .order_by(OutboxItem.id)
                .limit(limit)
            )
            if i not in done
        ]


def _deliver_one(
    sessions: sessionmaker[Session],
    transport: Transport,
    item_id: int,
    max_attempts: int,
    now: Callable[[], datetime],
    stats: FlushStats,
    fault_hook: FaultHook | None,
    journal: DeliveryJournal | None,
    carry: Carry | None,
) -> Carry | None:
    """Claim and send one reply; returns its result still to be committed (with a journal),
    or None when it is committed already."""
    item = _claim(sessions, item_id, now(), carry)
    if item is None:
        return None  # no longer pending (staff changed it meanwhile)
    _fault(fault_hook, "after_claim", item_id)
    reached_data: list[bool] = []

    def before_data() -> None:
        _set_status(sessions, item_id, "claimed", "in_smtp")
        reached_data.append(True)
        _fault(fault_hook, "before_data", item_id)

    try:
        outcome: str | TransportError = transport.send(
            item.mail_from, [item.recipient], item.raw, before_data=before_data
        )
    except TransportError as exc:
        if exc.stage in SERVER_STAGES and not reached_data:
            # Connection, TLS or login failed: the reply is not at fault, so it keeps its
            # attempts and waits for the next flush.
            stats.transport_error = str(exc)
            log.error("mail server unusable", extra={"stage": exc.stage, "error": str(exc)})
            _release(sessions, item_id, exc, now())
            return None
        outcome = exc
    if journal is not None and isinstance(outcome, str):
        journal.accepted(item_id, item.message_id, outcome)
    _fault(fault_hook, "after_data", item_id)
    later: Carry | None = None
    if isinstance(outcome, TransportError) and reached_data and outcome.code is None:
        # The connection broke during DATA without an answer: the server may have the message.
        _mark_uncertain(sessions, item_id, f"no answer to DATA: {outcome}"[:500], now())
        stats.uncertain += 1
    elif journal is not None and isinstance(outcome, str):
        at, result = now(), outcome

        def later(session: Session) -> None:
            _record_in(session, item_id, result, max_attempts, at, stats)

    else:
        _record(sessions, item_id, outcome, max_attempts, now(), stats)
    _fault(fault_hook, "after_record", item_id)
    return later


def _fault(hook: FaultHook | None, point: str, item_id: int) -> None:
    if hook is not None:
        hook(point, item_id)


def _claim(
    sessions: sessionmaker[Session], item_id: int, at: datetime, carry: Carry | None = None
) -> OutboxItem | None:
    """Mark this row "claimed" if it is still pending, and return it (committed), in one
    transaction with the previous reply's result (carry)."""
    with sessions() as session, session.begin():
        if carry is not None:
            carry(session)
        claimed = session.scalars(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == "pending")
            .values(status="claimed", claimed_at=at, attempts=OutboxItem.attempts + 1)
            .returning(OutboxItem.id)
        ).all()
        if not claimed:
            return None
        return session.get(OutboxItem, item_id)


def _set_status(sessions: sessionmaker[Session], item_id: int, old: str, new: str) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == old)
            .values(status=new)
        )


def _release(
    sessions: sessionmaker[Session], item_id: int, exc: TransportError, at: datetime
) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == "claimed")
            .values(
                status="pending",
                attempts=OutboxItem.attempts - 1,
                last_error=str(exc)[:500],
                next_attempt_at=at,
            )
        )


def _record(
    sessions: sessionmaker[Session],
    item_id: int,
    outcome: str | TransportError,
    max_attempts: int,
    at: datetime,
    stats: FlushStats,
) -> None:
    """Write the result of one send, in its own transaction."""
    with sessions() as session, session.begin():
        _record_in(session, item_id, outcome, max_attempts, at, stats)


def _record_in(
    session: Session,
    item_id: int,
    outcome: str | TransportError,
    max_attempts: int,
    at: datetime,
    stats: FlushStats,
) -> None:
    """Write the result of one send in this session's transaction."""
    item = session.get(OutboxItem, item_id)
    assert item is not None
    if isinstance(outcome, str):
        item.status, item.sent_at, item.result, item.last_error = (
            "sent",
            at,
            outcome[:500],
            None,
        )
        stats.sent += 1
        session.add(
            Event(
                case_id=item.case_id,
                actor="intake",
                type=f"{item.purpose}_sent",
                reason=f"delivered to {item.recipient}: {outcome[:200]}",
                data={"outbox_id": item.id, "message_id": item.message_id},
            )
        )
        return
    item.last_error = str(outcome)[:500]
    if outcome.permanent or item.attempts >= max_attempts:
        item.status = "failed"
        stats.failed += 1
        session.add(
            Event(
                case_id=item.case_id,
                actor="intake",
                type=f"{item.purpose}_failed",
                reason=item.last_error,
                data={"outbox_id": item.id},
            )
        )
        _flag_unacknowledged(session, item)
    else:
        item.status, item.next_attempt_at = "pending", at + backoff(item.attempts)
        stats.retried += 1
    log.warning(
        "reply not delivered",
        extra={
            "outbox_id": item.id,
            "attempts": item.attempts,
            "status": item.status,
            "error": item.last_error[:200],
        },
    )


def _mark_uncertain(
    sessions: sessionmaker[Session], item_id: int, reason: str, at: datetime
) -> None:
    with sessions() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.status, item.last_error = "uncertain", reason
        session.add(
            Event(
                case_id=item.case_id,
                actor="intake",
                type=f"{item.purpose}_uncertain",
                reason=reason,
                data={"outbox_id": item.id, "message_id": item.message_id},
            )
        )
    log.warning("reply uncertain", extra={"outbox_id": item_id, "reason": reason[:200]})


def recover(
    sessions: sessionmaker[Session],
    at: datetime,
    resolver: SentLookup | None = None,
    journal: DeliveryJournal | None = None,
) -> tuple[int, int]:
    """What a dead sender left, seen by the one holding the sender lock now.

    "claimed" (DATA never started) goes back to pending, its attempt given back; "in_smtp" (or
    the older "sending") becomes "uncertain", then "sent" if this host's delivery journal says
    the server accepted it, or the resolver finds it. Returns (requeued, left uncertain).
    """
    with sessions() as session, session.begin():
        requeued = session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "claimed")
            .values(status="pending", attempts=OutboxItem.attempts - 1, next_attempt_at=at)
        ).rowcount
    uncertain = 0
    with sessions() as session:
        stranded = session.scalars(
            select(OutboxItem.id).where(OutboxItem.status.in_(IN_SMTP))
        ).all()
    for item_id in stranded:
        _mark_uncertain(
            sessions, item_id,
            "the sender stopped during the SMTP transaction (DATA may have reached the server); "
            "check before resending", at,
        )
    resolved = 0
    if journal is not None:
        accepted = journal.entries()
        if accepted:
            resolved = _resolve_from_journal(sessions, accepted, at)
        journal.clear()  # every entry is in the database now, one way or the other
    if stranded and resolver is not None:
        resolved += resolve_uncertain(sessions, resolver, at, stranded)
    uncertain = max(len(stranded) - resolved, 0)
    if requeued or stranded:
        log.warning("outbox recovered after a sender stopped",
                    extra={"requeued": requeued, "uncertain": uncertain})
    return requeued or 0, uncertain


def _resolve_from_journal(
    sessions: sessionmaker[Session], accepted: dict[int, tuple[str, str]], at: datetime
) -> int:
    resolved = 0
    with sessions() as session, session.begin():
        rows = session.scalars(
            select(OutboxItem).where(
                OutboxItem.id.in_(list(accepted)), OutboxItem.status == "uncertain"
            )
        ).all()
        for item in rows:
            message_id, reply = accepted[item.id]
            if message_id != item.message_id:
                continue  # not this database's reply
            item.status, item.sent_at, item.last_error = "sent", at, None
            item.result = f"{reply} (from the delivery journal after the sender stopped)"[:500]
            session.add(
                Event(
                    case_id=item.case_id,
                    actor="intake",
                    type=f"{item.purpose}_sent",
                    reason=f"delivered to {item.recipient}: {reply[:200]} (the server's answer "
                    "was noted before the sender stopped)",
                    data={"outbox_id": item.id, "message_id": item.message_id},
                )
            )
            resolved += 1
    return resolved


def resolve_uncertain(
    sessions: sessionmaker[Session],
    lookup: SentLookup,
    at: datetime,
    ids: list[int] | None = None,
    since: datetime | None = None,
) -> int:
    """Mark "sent" the uncertain replies (all, these ids, or those claimed since `since`)
    that `lookup` finds; returns how many. A lookup that fails or does not find the reply
    leaves it uncertain: it is never sent again automatically."""
    with sessions() as session:
        query = select(OutboxItem).where(OutboxItem.status == "uncertain")
        if ids is not None:
            query = query.where(OutboxItem.id.in_(ids))
        if since is not None:
            query = query.where(OutboxItem.claimed_at >= since)
        rows = [(i.id, i.mail_from, i.message_id) for i in session.scalars(query)]
    resolved = 0
    for item_id, mail_from, message_id in rows:
        try:
            found = lookup(mail_from, message_id)
        except Exception as exc:  # the Sent folder cannot be read now: staff or a later try
            log.warning("uncertain reply not resolved",
                        extra={"outbox_id": item_id, "error": str(exc)[:200]})
            continue
        if not found:
            continue
        with sessions() as session, session.begin():
            item = session.get(OutboxItem, item_id)
            if item is None or item.status != "uncertain":
                continue
            item.status, item.sent_at = "sent", at
            item.result = "found in the Sent folder after the sender stopped"
            session.add(
                Event(
                    case_id=item.case_id,
                    actor="intake",
                    type=f"{item.purpose}_sent",
                    reason=f"{item.message_id} found in the Sent folder: it was delivered",
                    data={"outbox_id": item.id, "message_id": item.message_id},
                )
            )
        resolved += 1
    return resolved


def _flag_unacknowledged(session: Session, item: OutboxItem) -> None:
    """An acknowledgement given up on: staff must reach the requester another way."""
    case = session.get(Case, item.case_id) if item.case_id is not None else None
    if case is None or item.purpose != "acknowledgement":
        return
    case.needs_review = True
    case.review_reason = f"could not acknowledge: {item.last_error or ''}"[:300]
