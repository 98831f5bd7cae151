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

from intake.cases.models import Event, OutboxItem
from intake.outbound.transport import TransportError

log = logging.getLogger(__name__)
CLAIM_TIMEOUT = timedelta(minutes=15)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
SERVER_STAGES = frozenset({"connect", "tls", "auth"})


class Transport(Protocol):
    def send(self, mail_from: str, recipients: list[str], data: bytes) -> str: ...


@dataclass
class FlushStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    transport_error: str | None = None  # the server or its settings failed: nothing was tried


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
    """Deliver every due reply over one transport connection."""
    stats = FlushStats()
    stats.uncertain = _expire_stale_claims(sessions, now())
    with sessions() as session:
        due = session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now())
            .order_by(OutboxItem.id)
            .limit(limit)
        ).all()
    if not due:
        return stats
    transport_cm = open_transport()
    transport = transport_cm.__enter__()
    try:
        for item_id in due:
            if stop is not None and stop.is_set():
                break
            if not _claim(sessions, item_id, now()):
                continue
            with sessions() as session:
                item = session.get(OutboxItem, item_id)
                assert item is not None
                mail_from, recipient, raw = item.mail_from, item.recipient, item.raw
            try:
                result = transport.send(mail_from, [recipient], raw)
            except TransportError as exc:
                if exc.stage in SERVER_STAGES:
                    # Connection, TLS or login failed: the message is not at fault, so it does
                    # not use up its attempts; everything waits for the next flush.
                    _release(sessions, item_id, exc, now())
                    stats.transport_error = str(exc)
                    log.error("mail server unusable", extra={"stage": exc.stage, "error": str(exc)})
                    break
                _record_failure(sessions, item_id, exc, max_attempts, now(), stats)
                continue
            _record_sent(sessions, item_id, result, now())
            stats.sent += 1
    finally:
        transport_cm.__exit__(None, None, None)
    return stats


def _claim(sessions: sessionmaker[Session], item_id: int, at: datetime) -> bool:
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == "pending")
            .values(status="sending", claimed_at=at, attempts=OutboxItem.attempts + 1)
        ).rowcount
    return claimed == 1


def _release(sessions: sessionmaker[Session], item_id: int, exc: TransportError,
             at: datetime) -> None:
    with sessions() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.status, item.attempts, item.last_error = "pending", item.attempts - 1, str(exc)[:500]
        item.next_attempt_at = at


def _record_sent(sessions: sessionmaker[Session], item_id: int, result: str, at: datetime) -> None:
    with sessions() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.status, item.sent_at, item.result, item.last_error = "sent", at, result[:500], None
        session.add(Event(case_id=item.case_id, actor="intake", type=f"{item.purpose}_sent",
                          reason=f"delivered to the requester: {result[:200]}",
                          data={"outbox_id": item.id, "message_id": item.message_id}))
    log.info("reply sent", extra={"outbox_id": item_id})


def _record_failure(
    sessions: sessionmaker[Session], item_id: int, exc: TransportError, max_attempts: int,
    at: datetime, stats: FlushStats,
) -> None:
    with sessions() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.last_error = str(exc)[:500]
        if exc.permanent or item.attempts >= max_attempts:
            item.status = "failed"
            stats.failed += 1
            session.add(Event(case_id=item.case_id, actor="intake", type=f"{item.purpose}_failed",
                              reason=item.last_error, data={"outbox_id": item.id}))
        else:
            item.status, item.next_attempt_at = "pending", at + backoff(item.attempts)
            stats.retried += 1
        attempts, status = item.attempts, item.status
    log.warning("reply not delivered", extra={"outbox_id": item_id, "attempts": attempts,
                                              "status": status, "error": str(exc)[:200]})


def _expire_stale_claims(sessions: sessionmaker[Session], at: datetime) -> int:
    with sessions() as session, session.begin():
        stale = session.scalars(
            select(OutboxItem).where(
                OutboxItem.status == "sending", OutboxItem.claimed_at < at - CLAIM_TIMEOUT
            )
        ).all()
        for item in stale:
            item.status = "uncertain"
            session.add(Event(
                case_id=item.case_id, actor="intake", type=f"{item.purpose}_uncertain",
                reason="the sender stopped during delivery; check before resending",
                data={"outbox_id": item.id}))
        return len(stale)
