"""The sender job: delivers queued replies once, records the result, retries with backoff.

A row is claimed (status "sending") and committed before the SMTP conversation, and marked "sent"
after it. If the process dies in between, nobody knows whether the server took the message: such a
row becomes "uncertain" for staff to check, and is never sent again automatically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from intake.outbound.transport import TransportError
from intake.store.models import Case, Event, OutboxItem

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=15)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
SERVER_STAGES = frozenset({"connect", "tls", "auth"})
# Replies claimed and recorded per transaction. If the process dies mid-group, the group's sent
# replies cannot be told from unsent ones: they all become "uncertain", never resent.
GROUP = 20


class Transport(Protocol):
    def send(self, mail_from: str, recipients: list[str], data: bytes) -> str: ...



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

@dataclass
class FlushStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    transport_error: str | None = None  # the server or its settings failed: nothing was tried

    def add(self, other: FlushStats) -> None:
        """Fold the counts of a later flush into these."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.uncertain += other.uncertain
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
) -> FlushStats:
    """Deliver every due reply, in batches of `limit` over one transport connection."""
    stats = FlushStats()
    stats.uncertain = _expire_stale_claims(sessions, now())
    done: set[int] = set()
    while not (stop is not None and stop.is_set()) and stats.transport_error is None:
        with sessions() as session:
            due = [
                i
                for i in session.scalars(
                    select(OutboxItem.id)
                    .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now())
                    .order_by(OutboxItem.id)
                    .limit(limit)
                )
                if i not in done
            ]
        if not due:
            break
        done.update(due)
        _deliver(sessions, open_transport, due, max_attempts, now, stop, stats)
    return stats


def _deliver(
    sessions: sessionmaker[Session],
    open_transport: Callable[[], AbstractContextManager[Transport]],
    due: list[int],
    max_attempts: int,
    now: Callable[[], datetime],
    stop: threading.Event | None,
    stats: FlushStats,
) -> None:
    with open_transport() as transport:
        for start in range(0, len(due), GROUP):
            if (stop is not None and stop.is_set()) or stats.transport_error:
                break
            claimed = _claim(sessions, due[start : start + GROUP], now())
            outcomes: list[tuple[OutboxItem, str | TransportError]] = []
            for n, item in enumerate(claimed):
                try:
                    outcomes.append(
                        (item, transport.send(item.mail_from, [item.recipient], item.raw))
                    )
                except TransportError as exc:
                    if exc.stage in SERVER_STAGES:
                        # Connection, TLS or login failed: the messages are not at fault, so
                        # they keep their attempts and wait for the next flush.
                        stats.transport_error = str(exc)
                        log.error(
                            "mail server unusable", extra={"stage": exc.stage, "error": str(exc)}
                        )
                        _release(sessions, claimed[n:], exc, now())
                        break
                    outcomes.append((item, exc))
            _record(sessions, outcomes, max_attempts, now(), stats)


def _claim(sessions: sessionmaker[Session], ids: list[int], at: datetime) -> list[OutboxItem]:
    """Mark these rows "sending" (only those still pending) and return them, in one commit."""
    with sessions() as session, session.begin():
        claimed = session.scalars(
            update(OutboxItem)
            .where(OutboxItem.id.in_(ids), OutboxItem.status == "pending")
            .values(status="sending", claimed_at=at, attempts=OutboxItem.attempts + 1)
            .returning(OutboxItem.id)
        ).all()
        if not claimed:
            return []
        return list(
            session.scalars(
                select(OutboxItem).where(OutboxItem.id.in_(claimed)).order_by(OutboxItem.id)
            )
        )


def _release(
    sessions: sessionmaker[Session], items: list[OutboxItem], exc: TransportError, at: datetime
) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_([i.id for i in items]), OutboxItem.status == "sending")
            .values(
                status="pending",
                attempts=OutboxItem.attempts - 1,
                last_error=str(exc)[:500],
                next_attempt_at=at,
            )
        )


def _record(
    sessions: sessionmaker[Session],
    outcomes: list[tuple[OutboxItem, str | TransportError]],
    max_attempts: int,
    at: datetime,
    stats: FlushStats,
) -> None:
    """Write the results of one group of sends in one transaction."""
    if not outcomes:
        return
    with sessions() as session, session.begin():
        ids = [claimed.id for claimed, _outcome in outcomes]
        rows = {row.id: row for row in session.scalars(
            select(OutboxItem).where(OutboxItem.id.in_(ids)))}  # one query for the group
        for claimed, outcome in outcomes:
            item = rows.get(claimed.id)
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
                continue
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
    log.info(
        "replies delivered",
        extra={"sent": sum(isinstance(o, str) for _, o in outcomes), "tried": len(outcomes)},
    )


def _flag_unacknowledged(session: Session, item: OutboxItem) -> None:
    """An acknowledgement given up on: staff must reach the requester another way."""
    case = session.get(Case, item.case_id) if item.case_id is not None else None
    if case is None or item.purpose != "acknowledgement":
        return
    case.needs_review = True
    case.review_reason = f"could not acknowledge: {item.last_error or ''}"[:300]


def _expire_stale_claims(sessions: sessionmaker[Session], at: datetime) -> int:
    with sessions() as session, session.begin():
        stale = session.scalars(
            select(OutboxItem).where(
                OutboxItem.status == "sending", OutboxItem.claimed_at < at - CLAIM_TIMEOUT
            )
        ).all()
        for item in stale:
            item.status = "uncertain"
            session.add(
                Event(
                    case_id=item.case_id,
                    actor="intake",
                    type=f"{item.purpose}_uncertain",
                    reason="the sender stopped during delivery; check before resending",
                    data={"outbox_id": item.id},
                )
            )
        return len(stale)
