"""A reply left uncertain by a dead sender, looked up in the Sent folder by the worker (real
Dovecot and SMTP): found there it is sent; not found, no folder, or the server down, it stays
uncertain for staff; it is never sent again automatically."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from intake.daemon import Worker
from intake.outbound.outbox import flush_outbox
from intake.outbound.sentcheck import ImapSentLookup, SentFolderUnknown
from intake.outbound.transport import open_transport
from intake.source.base import SourceError
from intake.store.models import Event
from tests.fixtures.pipeline import AGO, mailbox, make_settings
from tests.test_outbox import T0, Died, die_at, item, queue

pytestmark = [pytest.mark.imap, pytest.mark.smtp]
SENT = "Verzonden items"


def worker_for(imap, smtp_server, db, pipeline, sent_folder: str, **imap_overrides) -> Worker:
    box = mailbox(AGO, imap.imap_settings(sent_folder=sent_folder, **imap_overrides))
    return Worker(make_settings(db.url, [box], smtp_server.settings()), pipeline=pipeline)


def strand(db, smtp_server, point: str, at: datetime | None = None) -> tuple[int, int]:
    """Two replies queued; the sender dies at `point` of the first. (stranded id, other id)"""
    first, second = queue(db, "jan.peeters@example.be", 2)
    claimed = at or datetime.now(UTC)
    with pytest.raises(Died):
        flush_outbox(db.sessions, lambda: open_transport(smtp_server.settings()), 3,
                     now=lambda: claimed, fault_hook=die_at(point, 1))
    assert item(db, first).status == "in_smtp"
    return first, second


def events(db, item_id: int) -> list[str]:
    with db.sessions() as s:
        return [e.reason for e in s.scalars(select(Event))
                if isinstance(e.data, dict) and e.data.get("outbox_id") == item_id]


def test_found_in_the_named_sent_folder(imap, smtp_server, db, pipeline):
    stranded, other = strand(db, smtp_server, "after_data")  # the server has it
    imap.append(item(db, stranded).raw, folder=SENT)  # and filed a copy in Sent
    imap.append(b"Message-ID: <other@example.be>\r\nSubject: x\r\n\r\nx\r\n", folder=SENT)
    worker = worker_for(imap, smtp_server, db, pipeline, SENT)
    stats = worker.flush()
    assert (stats.uncertain, stats.sent) == (0, 1)
    assert item(db, stranded).status == "sent" and item(db, other).status == "sent"
    assert "found in the Sent folder" in item(db, stranded).result
    assert any("found in the Sent folder" in r for r in events(db, stranded))
    assert len(smtp_server.received) == 2  # the stranded one once, the other once


def test_found_in_the_servers_special_use_sent_folder(imap, smtp_server, db, pipeline):
    """sent_folder = "server": the folder the server marks \\Sent (here "Sent")."""
    stranded, _other = strand(db, smtp_server, "after_data")
    imap.append(item(db, stranded).raw, folder="Sent")
    worker = worker_for(imap, smtp_server, db, pipeline, "server")
    assert worker.flush().uncertain == 0
    assert item(db, stranded).status == "sent"
    assert len(smtp_server.received) == 2


def test_not_found_stays_uncertain_until_the_copy_appears(imap, smtp_server, db, pipeline):
    stranded, other = strand(db, smtp_server, "after_data")
    imap.append(b"Message-ID: <other@example.be>\r\nSubject: x\r\n\r\nx\r\n", folder=SENT)
    worker = worker_for(imap, smtp_server, db, pipeline, SENT)
    stats = worker.flush()
    assert (stats.uncertain, stats.sent) == (1, 1)
    assert item(db, stranded).status == "uncertain" and item(db, other).status == "sent"
    assert worker.flush().sent == 0  # never sent again by itself
    assert len(smtp_server.received) == 2
    # The server files its copy later: the periodic check finds it.
    imap.append(item(db, stranded).raw, folder=SENT)
    assert worker.check_uncertain() == 1
    assert item(db, stranded).status == "sent"
    assert len(smtp_server.received) == 2


def test_never_reached_data_is_not_found_and_not_resent(imap, smtp_server, db, pipeline):
    stranded, _other = strand(db, smtp_server, "before_data")  # the server never had it
    imap.append(b"Message-ID: <other@example.be>\r\nSubject: x\r\n\r\nx\r\n", folder=SENT)
    worker = worker_for(imap, smtp_server, db, pipeline, SENT)
    assert worker.flush().uncertain == 1
    assert worker.check_uncertain() == 0
    assert item(db, stranded).status == "uncertain"
    received = [m.data for m in smtp_server.received]
    assert len(received) == 1 and item(db, stranded).message_id.encode() not in received[0]


@pytest.mark.parametrize("sent_folder", ["", "Bestaat niet"])
def test_no_sent_folder_stays_uncertain(imap, smtp_server, db, pipeline, sent_folder):
    stranded, _other = strand(db, smtp_server, "after_data")
    imap.append(item(db, stranded).raw, folder=SENT)  # there, but not where we may look
    worker = worker_for(imap, smtp_server, db, pipeline, sent_folder)
    assert (worker.sent_lookup is None) == (sent_folder == "")
    stats = worker.flush()
    assert (stats.uncertain, stats.sent) == (1, 1)
    assert item(db, stranded).status == "uncertain"
    assert len(smtp_server.received) == 2
    if sent_folder:
        with pytest.raises(SentFolderUnknown):
            worker.sent_lookup("dpo.ago@vlaanderen.be", item(db, stranded).message_id)


def test_server_without_special_use_sent_cannot_tell(imap, db, smtp_server):
    imap.append(b"Message-ID: <x@example.be>\r\nSubject: x\r\n\r\nx\r\n", folder=SENT)
    lookup = ImapSentLookup([mailbox(AGO, imap.imap_settings(sent_folder="server"))])
    with pytest.raises(SentFolderUnknown):
        lookup("dpo.ago@vlaanderen.be", "<x@example.be>")  # "Sent" does not exist here


def test_imap_down_stays_uncertain_and_the_rest_goes_out(imap, smtp_server, db, pipeline):
    stranded, other = strand(db, smtp_server, "after_data")
    imap.append(item(db, stranded).raw, folder=SENT)
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    worker = worker_for(imap, smtp_server, db, pipeline, SENT, port=closed_port)
    started = time.monotonic()
    stats = worker.flush()
    assert time.monotonic() - started < 10
    assert (stats.uncertain, stats.sent) == (1, 1)
    assert item(db, stranded).status == "uncertain" and item(db, other).status == "sent"
    assert worker.check_uncertain() == 0  # still down (remembered: not even tried again)
    with pytest.raises(SourceError, match="not tried again"):
        worker.sent_lookup("dpo.ago@vlaanderen.be", item(db, stranded).message_id)
    # Back up (the real port): the next periodic check resolves it.
    worker.sent_lookup = ImapSentLookup(
        [replace(worker.settings.mailboxes[0], imap=imap.imap_settings(sent_folder=SENT))])
    assert worker.check_uncertain() == 1
    assert item(db, stranded).status == "sent"
    assert len(smtp_server.received) == 2


def test_old_uncertain_replies_are_not_looked_up_again(imap, smtp_server, db, pipeline):
    stranded, _other = strand(db, smtp_server, "after_data", at=T0)  # claimed months ago
    worker = worker_for(imap, smtp_server, db, pipeline, SENT)
    imap.append(b"Subject: x\r\n\r\nx\r\n", folder=SENT)
    worker.flush()
    assert item(db, stranded).status == "uncertain"
    imap.append(item(db, stranded).raw, folder=SENT)
    assert worker.check_uncertain() == 0  # beyond SENT_CHECK_HOURS: staff decide
    assert item(db, stranded).status == "uncertain"
