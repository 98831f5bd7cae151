"""Copies of sent replies in the Sent folder (real Dovecot and SMTP): stored once, marked seen,
retried on failure without ever resending the mail; `cases show` shows each reply's text."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import select

from intake.cases.queries import case_detail
from intake.cli.cases import format_case_detail
from intake.daemon import Worker
from intake.outbound.sentcopy import copy_sent_replies
from intake.store.models import OutboxItem, SentCopy
from tests import mailgen
from tests.fixtures.pipeline import AGO, mailbox, make_settings
from tests.test_cli_run import RECEIVED

pytestmark = [pytest.mark.imap, pytest.mark.smtp]
SENT = "Verzonden items"


def settings_for(imap, smtp_server, db, sent_folder: str):
    box = mailbox(AGO, imap.imap_settings(sent_folder=sent_folder))
    return make_settings(db.url, [box], smtp_server.settings())


def request(seed: int) -> bytes:
    return mailgen.request("access", "nl", to=AGO["address"], seed=seed,
                           sender=(f"Persoon {seed}", f"p{seed}@example.be"))


def test_reply_is_stored_seen_in_the_sent_folder_once(imap, smtp_server, db, pipeline):
    imap.append(b"Subject: oud\r\n\r\nx\r\n", folder=SENT)  # the folder exists (and is not empty)
    imap.append(request(71), msg_time=RECEIVED)
    worker = Worker(settings_for(imap, smtp_server, db, SENT), pipeline=pipeline)
    report = worker.run_once()
    assert report.errors == {} and report.outbox.sent == 1
    (sent,) = smtp_server.wait_for(1)
    uids = imap.uids(SENT)
    assert len(uids) == 2
    with imap.client() as client:
        client.select_folder(SENT, readonly=True)
        stored = client.fetch([uids[-1]], ["BODY.PEEK[]", "FLAGS"])[uids[-1]]
    assert b"\\Seen" in stored[b"FLAGS"]
    copy = email.message_from_bytes(stored[b"BODY[]"], policy=policy.default)
    assert copy["Message-ID"] == email.message_from_bytes(sent.data)["Message-ID"]
    with db.sessions() as s:
        (row,) = s.scalars(select(SentCopy))
        assert row.status == "stored" and row.folder == SENT

    worker.run_once()  # nothing new: no second copy
    assert len(imap.uids(SENT)) == 2 and len(smtp_server.received) == 1

    with db.sessions() as s:
        detail = case_detail(s, "DPO-AGO-2026-0001")
    (reply,) = detail["outbox"]
    assert reply["sent_copy"] == "stored" and "DPO-AGO-2026-0001" in reply["subject"]
    assert reply["text"] and "DPO-AGO-2026-0001" in reply["text"]
    shown = format_case_detail(detail)
    assert "copy in Sent folder: stored" in shown
    assert f"      | {reply['text'].splitlines()[0]}" in shown


def test_missing_folder_is_retried_and_the_mail_not_resent(imap, smtp_server, db, pipeline):
    imap.append(request(72), msg_time=RECEIVED)
    settings = settings_for(imap, smtp_server, db, "Sent Items")
    Worker(settings, pipeline=pipeline).run_once()
    assert len(smtp_server.wait_for(1)) == 1
    assert "Sent Items" not in imap.folders()  # never created by us: a typo must show
    with db.sessions() as s:
        (row,) = s.scalars(select(SentCopy))
        assert row.status == "pending" and row.attempts == 1
        assert "does not exist" in row.last_error

    imap.append(b"Subject: x\r\n\r\nx\r\n", folder="Sent Items")  # staff fix the folder
    later = datetime.now(UTC) + timedelta(hours=1)
    stats = copy_sent_replies(db.sessions, settings, now=lambda: later)
    assert stats.stored == 1
    assert len(imap.uids("Sent Items")) == 2
    assert len(smtp_server.received) == 1
    with db.sessions() as s:
        assert s.scalars(select(OutboxItem.status)).all() == ["sent"]


def test_copy_already_there_is_not_stored_twice(imap, smtp_server, db, pipeline):
    imap.append(b"Subject: x\r\n\r\nx\r\n", folder=SENT)
    imap.append(request(73), msg_time=RECEIVED)
    settings = settings_for(imap, smtp_server, db, "")  # no copies while sending
    Worker(settings, pipeline=pipeline).run_once()
    (sent,) = smtp_server.wait_for(1)
    # As if an earlier APPEND succeeded but its answer was lost before it was recorded.
    imap.append(sent.data, folder=SENT)
    # Failed once in CI (2026-12-07, PostgreSQL, stored 1 / already there 0), never again in
    # ~50 runs: these two checks say next time whether the IDs differed or the search missed.
    with db.sessions() as s:
        (recorded_id,) = s.scalars(select(OutboxItem.message_id))
    assert email.message_from_bytes(sent.data)["Message-ID"] == recorded_id
    with imap.client() as client:
        client.select_folder(SENT, readonly=True)
        assert client.search(["HEADER", "Message-ID", recorded_id]), "Dovecot's search missed it"
    settings = replace(settings, mailboxes=(mailbox(AGO, imap.imap_settings(sent_folder=SENT)),))
    stats = copy_sent_replies(db.sessions, settings)
    assert (stats.queued, stats.stored, stats.already_there) == (1, 0, 1)
    assert len(imap.uids(SENT)) == 2


def test_server_saves_copies(imap, smtp_server, db, pipeline):
    imap.append(request(74), msg_time=RECEIVED)
    Worker(settings_for(imap, smtp_server, db, "server"), pipeline=pipeline).run_once()
    smtp_server.wait_for(1)
    with db.sessions() as s:
        (row,) = s.scalars(select(SentCopy))
        assert row.status == "server"
    assert imap.folders() == ["INBOX"]
