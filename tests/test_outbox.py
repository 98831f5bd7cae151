"""The outbox sender against a real SMTP server: once, with retries and honest failure states."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from intake.outbound.outbox import (
    FAULT_POINTS,
    DeliveryJournal,
    backoff,
    flush_outbox,
    resolve_uncertain,
)
from intake.outbound.sentcheck import ImapSentLookup
from intake.outbound.transport import open_transport
from intake.store.locks import locks_for_sessions
from intake.store.models import Event, OutboxItem
from tests.fixtures.pipeline import AGO, mailbox

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


def flush(db, smtp, at: datetime, max_attempts: int = 3, **kwargs):
    return flush_outbox(db.sessions, lambda: open_transport(smtp), max_attempts, now=lambda: at,
                        **kwargs)


class Died(BaseException):
    """The sender process 'dies' here (raised by a fault hook, like kill -9 at that instant)."""


def die_at(point: str, nth: int = 1):
    """A fault hook that dies at `point` of the nth reply it handles."""
    seen: list[int] = []

    def hook(where: str, item_id: int) -> None:
        if where == "after_claim":
            seen.append(item_id)
        if where == point and len(seen) == nth:
            raise Died(f"{point} of reply {item_id}")

    return hook


def statuses(db, ids) -> list[str]:
    return [item(db, i).status for i in ids]


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


def test_legacy_sending_rows_become_uncertain_and_are_never_resent(db, smtp_server):
    """Rows the batching sender left "sending" may have gone out: uncertain, not resent."""
    [item_id] = queue(db, "jan.peeters@example.be")
    with db.sessions() as s, s.begin():
        row = s.get(OutboxItem, item_id)
        row.status, row.claimed_at, row.attempts = "sending", T0, 1
    stats = flush(db, smtp_server.settings(), T0)
    assert (stats.uncertain, stats.sent) == (1, 0)
    assert item(db, item_id).status == "uncertain"
    assert smtp_server.received == []


# Per fault point: (replies the server got in the end, status of the interrupted reply after
# the restart). Only a death after DATA started leaves the reply uncertain (and it is never
# resent automatically); a death after the claim but before DATA just sends it on restart.
OUTCOME = {
    "after_claim": (20, "sent"),
    "before_data": (19, "uncertain"),  # in_smtp committed, DATA not yet sent: the one window
    "after_data": (20, "uncertain"),  # the server has it, the result was not recorded
    "after_record": (20, "sent"),
}


@pytest.mark.parametrize("with_journal", [False, True])
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_sender_dies_mid_queue_nothing_lost_nothing_twice(point, with_journal, db, smtp_server,
                                                          tmp_path):
    """Finding 1 of issue 13: a death in the sending loop lost the whole claimed group.

    With the journal (as the daemon runs it) a result is committed with the next claim, and a
    death after the server's 250 is resolved from the journal: only before_data stays uncertain.
    """
    ids = queue(db, "persoon@example.be", 20)
    journal = DeliveryJournal(tmp_path, db.url) if with_journal else None
    with pytest.raises(Died):
        flush(db, smtp_server.settings(), T0, fault_hook=die_at(point, nth=5), journal=journal)
    # The sender lock died with the 'process' (flush_outbox's finally released it).
    stats = flush(db, smtp_server.settings(), T0, journal=journal)
    received, fifth = OUTCOME[point]
    if with_journal and point == "after_data":
        fifth = "sent"
    got = [email.message_from_bytes(m.data)["Message-ID"] for m in smtp_server.wait_for(received)]
    assert len(got) == len(set(got))  # no reply twice
    assert len(smtp_server.received) == received
    states = statuses(db, ids)
    assert states[4] == fifth
    assert states[:4] + states[5:] == ["sent"] * 19
    assert stats.uncertain == (1 if fifth == "uncertain" else 0)
    if point == "after_claim":
        assert stats.requeued == 1 and item(db, ids[4]).attempts == 1
    # Later flushes change nothing: uncertain is never resent automatically.
    flush(db, smtp_server.settings(), T0 + timedelta(days=1))
    assert len(smtp_server.received) == received


def test_server_answer_in_the_journal_resolves_the_reply(db, smtp_server, tmp_path):
    """Killed after the server's 250 but before the database heard of it: the delivery journal
    on this host says it went out, so the successor records it as sent, not uncertain."""
    ids = queue(db, "persoon@example.be", 3)
    journal = DeliveryJournal(tmp_path / "state", db.url)
    with pytest.raises(Died):
        flush(db, smtp_server.settings(), T0, journal=journal, fault_hook=die_at("after_data", 2))
    assert item(db, ids[1]).status == "in_smtp"
    assert set(journal.entries()) == {ids[0], ids[1]}
    stats = flush(db, smtp_server.settings(), T0, journal=journal)
    assert (stats.uncertain, stats.sent) == (0, 1)
    assert statuses(db, ids) == ["sent", "sent", "sent"]
    assert "delivery journal" in item(db, ids[1]).result
    assert len(smtp_server.received) == 3
    assert set(journal.entries()) == {ids[2]}  # emptied, then the new send noted
    # An entry whose Message-ID is not this row's (another database's reply) resolves nothing.
    [other] = queue(db, "ander@example.be")
    with db.sessions() as s, s.begin():
        s.get(OutboxItem, other).status = "in_smtp"
    journal.accepted(other, "<someone.else@example.be>", "250 ok")
    assert flush(db, smtp_server.settings(), T0, journal=journal).uncertain == 1
    assert item(db, other).status == "uncertain"


def test_live_sender_keeps_its_claims(db, smtp_server):
    """A second sender must not recover the rows of one that is alive: it waits its turn."""
    [item_id] = queue(db, "jan.peeters@example.be")
    with db.sessions() as s, s.begin():
        s.get(OutboxItem, item_id).status = "claimed"
    lock = locks_for_sessions(db.sessions).try_acquire("outbox-sender")
    assert lock is not None
    try:
        stats = flush(db, smtp_server.settings(), T0)
        assert stats.busy and item(db, item_id).status == "claimed"
    finally:
        lock.release()
    stats = flush(db, smtp_server.settings(), T0)
    assert (stats.requeued, stats.sent) == (1, 1)


def test_uncertain_reply_found_in_sent_folder_is_resolved(db, smtp_server, imap):
    ids = queue(db, "jan.peeters@example.be", 2)
    with pytest.raises(Died):
        flush(db, smtp_server.settings(), T0, fault_hook=die_at("after_data", nth=1))
    found, missing = (item(db, i) for i in ids)
    # The server (or, with i14, the sender) saved the first reply in Sent; the other is not there.
    imap.append(found.raw, folder="Sent")
    imap.append(b"Message-ID: <other@example.be>\r\nSubject: x\r\n\r\nx\r\n", folder="Sent")
    lookup = ImapSentLookup([mailbox(AGO, imap.imap_settings())], folder="Sent")
    assert lookup(found.mail_from, found.message_id) is True
    assert lookup(missing.mail_from, missing.message_id) is False
    stats = flush(db, smtp_server.settings(), T0, resolver=lookup)
    assert (stats.uncertain, stats.sent) == (0, 1)  # resolved at recovery; the second sent
    assert statuses(db, ids) == ["sent", "sent"]
    with db.sessions() as s:
        events = s.scalars(select(Event.reason).where(Event.type == "acknowledgement_sent"))
        assert any("found in the Sent folder" in r for r in events)
    assert len(smtp_server.received) == 2


def test_uncertain_stays_when_the_sent_folder_cannot_tell(db, smtp_server):
    [item_id] = queue(db, "jan.peeters@example.be")
    with db.sessions() as s, s.begin():
        s.get(OutboxItem, item_id).status = "uncertain"

    def unreachable(_mail_from: str, _message_id: str) -> bool:
        raise OSError("connection refused")

    assert resolve_uncertain(db.sessions, unreachable, T0) == 0
    assert resolve_uncertain(db.sessions, lambda *_: False, T0) == 0
    assert item(db, item_id).status == "uncertain"
