"""The outbox sender against a real SMTP server: once, with retries and honest failure states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from intake.outbound.outbox import CLAIM_TIMEOUT, backoff, flush_outbox
from intake.outbound.transport import open_transport
from intake.store.models import Event, OutboxItem

T0 = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


def queue(db, recipient: str, n: int = 1) -> list[int]:
    ids = []
    with db.sessions() as s, s.begin():
        for i in range(n):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "dpo.ago@vlaanderen.be", recipient, "Test"
            msg["Message-ID"] = f"<test.{recipient}.{i}@vlaanderen.be>"
            msg.set_content("Ontvangstbevestiging.")
            item = OutboxItem(purpose="acknowledgement", message_id=msg["Message-ID"],
                              mail_from="dpo.ago@vlaanderen.be", recipient=recipient,
                              raw=msg.as_bytes(), status="pending", next_attempt_at=T0,
                              created_at=T0)
            s.add(item)
            s.flush()
            ids.append(item.id)
    return ids


def flush(db, smtp, at: datetime, max_attempts: int = 3):
    return flush_outbox(db.sessions, lambda: open_transport(smtp), max_attempts, now=lambda: at)


def item(db, item_id: int) -> OutboxItem:
    with db.sessions() as s:
        return s.get(OutboxItem, item_id)


def test_delivers_once(db, smtp_server):
    ids = queue(db, "jan.peeters@example.be", 3)
    stats = flush(db, smtp_server.settings(), T0)
    assert stats.sent == 3
    assert len(smtp_server.wait_for(3)) == 3
    assert all(item(db, i).status == "sent" for i in ids)
    assert flush(db, smtp_server.settings(), T0 + timedelta(hours=1)).sent == 0
    assert len(smtp_server.received) == 3
    with db.sessions() as s:
        assert len(s.scalars(select(Event).where(Event.type == "acknowledgement_sent")).all()) == 3


def test_temporary_refusal_is_retried_with_backoff(db, smtp_server):
    [item_id] = queue(db, "busy@example.be")
    smtp_server.refuse("busy@example.be", "450 4.2.1 Mailbox busy")
    stats = flush(db, smtp_server.settings(), T0)
    assert (stats.sent, stats.retried) == (0, 1)
    row = item(db, item_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == T0 + backoff(1)
    assert "450" in row.last_error
    # Not yet due: nothing happens.
    assert flush(db, smtp_server.settings(), T0 + backoff(1) / 2).retried == 0
    smtp_server.recipient_replies.clear()
    assert flush(db, smtp_server.settings(), T0 + backoff(1)).sent == 1
    assert item(db, item_id).attempts == 2


def test_permanent_refusal_and_exhausted_attempts_fail(db, smtp_server):
    [gone] = queue(db, "gone@example.be")
    smtp_server.refuse("gone@example.be", "550 5.1.1 No such user")
    flush(db, smtp_server.settings(), T0)
    assert item(db, gone).status == "failed"

    [busy] = queue(db, "always-busy@example.be")
    smtp_server.refuse("always-busy@example.be", "451 4.3.0 Try later")
    at = T0
    for _ in range(3):
        flush(db, smtp_server.settings(), at, max_attempts=3)
        at += timedelta(days=1)
    row = item(db, busy)
    assert (row.status, row.attempts) == ("failed", 3)
    assert smtp_server.received == []


def test_wrong_password_keeps_replies_pending(db, smtp_server, monkeypatch):
    [item_id] = queue(db, "jan.peeters@example.be")
    monkeypatch.setenv(smtp_server.password_env, "wrong")
    stats = flush(db, smtp_server.settings(), T0)
    assert stats.transport_error and "535" in stats.transport_error
    row = item(db, item_id)
    assert (row.status, row.attempts) == ("pending", 0)
    monkeypatch.setenv(smtp_server.password_env, smtp_server.password)
    assert flush(db, smtp_server.settings(), T0).sent == 1


def test_unreachable_server_keeps_replies_pending(db, smtp_server):
    [item_id] = queue(db, "jan.peeters@example.be")
    stats = flush(db, smtp_server.settings(port=1), T0)
    assert stats.transport_error
    assert item(db, item_id).status == "pending"


def test_crash_during_delivery_is_never_resent(db, smtp_server):
    [item_id] = queue(db, "jan.peeters@example.be")
    with db.sessions() as s, s.begin():  # a sender claimed it, then the process died
        row = s.get(OutboxItem, item_id)
        row.status, row.claimed_at, row.attempts = "sending", T0, 1
    assert flush(db, smtp_server.settings(), T0 + CLAIM_TIMEOUT / 2).uncertain == 0
    stats = flush(db, smtp_server.settings(), T0 + CLAIM_TIMEOUT + timedelta(seconds=1))
    assert (stats.uncertain, stats.sent) == (1, 0)
    assert item(db, item_id).status == "uncertain"
    assert smtp_server.received == []
