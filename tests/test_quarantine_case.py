"""A quarantined message opens a case to classify, its legal clock running from its receipt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy import func, select

from intake import inflight
from intake.cases.deadlines import due_date
from intake.cases.workflow import calendar_for
from intake.config import ImapSettings, SmtpSettings
from intake.digest import collect_digest
from intake.message import header_fields
from intake.processor import Processor
from intake.source.base import FetchedMessage
from intake.store.models import Case, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO, mailbox, make_settings

RECEIVED = datetime(2026, 6, 2, 9, 30, tzinfo=BRUSSELS)
LATER = datetime(2026, 6, 3, 11, 0, tzinfo=BRUSSELS)
SENDER = ("Piet Gif", "piet.gif@example.be")


class FakeSource:
    """A folder in memory: what the processor fetches, flags and quarantines."""

    def __init__(self, messages: dict[int, tuple[bytes, datetime]]) -> None:
        self.mailbox_key, self.folder = "ago", "INBOX"
        self.messages = messages
        self.processed: set[int] = set()
        self.quarantined: dict[int, str] = {}

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def uidvalidity(self) -> int:
        return 7

    def pending_uids(self) -> list[int]:
        done = self.processed | set(self.quarantined)
        return sorted(uid for uid in self.messages if uid not in done)

    def fetch(self, uids: list[int]) -> list[FetchedMessage]:
        return [FetchedMessage("ago", "INBOX", 7, uid, self.messages[uid][1],
                               self.messages[uid][0]) for uid in uids]

    def mark_processed(self, uids: Sequence[int]) -> None:
        self.processed.update(uids)

    def quarantine(self, uid: int, reason: str) -> None:
        self.quarantined[uid] = reason


def processor(db, pipeline) -> tuple[Processor, object]:
    box = mailbox(AGO, ImapSettings(host="imap.invalid"))
    settings = make_settings(db.url, [box], SmtpSettings())
    return Processor(settings, db.sessions, pipeline, worker_id="test:1"), box


def died_twice(db, source: FakeSource, uids: Sequence[int]) -> None:
    """Two workers died while these messages were in flight."""
    batch = source.fetch(list(uids))
    inflight.mark(db.sessions, batch, "host:1", RECEIVED)
    inflight.mark(db.sessions, batch, "host:2", RECEIVED)


def after_two_deaths(db, pipeline, source: FakeSource, uids: Sequence[int] = (1,)):
    """Two workers died on `uids`; a third processes the folder: its stats."""
    died_twice(db, source, uids)
    proc, box = processor(db, pipeline)
    return proc.process_mailbox(box, source)  # type: ignore[arg-type]


def expected_due(received: datetime):
    return due_date(received, calendar_for(())).due


def only_case(session) -> Case:
    return session.scalars(select(Case)).one()


@pytest.mark.parametrize("raw", [
    mailgen.request("erasure", "nl", seed=42, subject="Verwijdering", sender=SENDER),
], ids=["request"])
def test_a_message_in_flight_at_two_deaths_gets_a_case_to_classify(db, pipeline, raw) -> None:
    source = FakeSource({1: (raw, RECEIVED)})
    stats = after_two_deaths(db, pipeline, source)

    # Its sender is a person by the header block's checks: the neutral acknowledgement of a case
    # to classify goes out ("if your message exercises a right…"); the message is not read.
    assert (stats.quarantined, stats.cases_opened, stats.acknowledgements_queued) == (1, 1, 1)
    assert source.quarantined == {1: inflight.WORKER_DIED} and not source.processed
    with db.sessions() as s:
        message = s.scalars(select(Message)).one()
        case = only_case(s)
        assert message.status == "quarantined"
        assert message.quarantine_reason == inflight.WORKER_DIED
        assert message.case_id == case.id and message.disposition == "to_classify"
        assert message.body_text is None and message.triage is None  # not read
        assert (case.kind, case.status) == ("to_classify", "open")
        assert case.received_at == RECEIVED
        assert case.due_date == expected_due(RECEIVED)  # a request received at its INTERNALDATE
        assert (case.requester_address, case.requester_name) == (SENDER[1], SENDER[0])
        assert case.needs_review
        assert case.review_reason == ("quarantined (worker died twice while reading it): "
                                      "not read; to classify by hand")
        [reply] = s.scalars(select(OutboxItem)).all()
        assert (reply.purpose, reply.recipient, reply.case_id) == (
            "acknowledgement", SENDER[1], case.id)
        events = {e.type: e for e in s.scalars(select(Event).where(Event.case_id == case.id))}
        assert {"opened", "clock_started", "acknowledgement_queued"} <= set(events)
        assert events["opened"].data["by_hand"] is False and events["opened"].actor == "intake"
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.type == "quarantined")) == 1
        assert s.scalar(select(func.count()).select_from(inflight.MessageInFlight)) == 0


def test_a_later_copy_of_a_quarantined_message_is_its_duplicate_in_its_case(db, pipeline):
    raw = mailgen.request("access", "nl", seed=43, subject="Inzage", sender=SENDER)
    source = FakeSource({1: (raw, RECEIVED)})
    died_twice(db, source, [1])
    proc, box = processor(db, pipeline)
    proc.process_mailbox(box, source)  # type: ignore[arg-type]
    # The same mail delivered again (another copy in the folder), later.
    source.messages[2] = (raw, LATER)
    stats = proc.process_mailbox(box, source)  # type: ignore[arg-type]
    assert (stats.duplicates, stats.cases_opened, stats.acknowledgements_queued) == (1, 0, 0)
    with db.sessions() as s:
        case = only_case(s)
        rows = {m.uid: m for m in s.scalars(select(Message))}
        assert rows[2].status == "duplicate" and rows[2].duplicate_of_id == rows[1].id
        assert rows[2].case_id == case.id
        # the first delivery's acknowledgement only: the copy adds none
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 1


def test_a_later_copy_that_kills_the_worker_too_joins_the_first_case(db, pipeline) -> None:
    """The same poison delivered twice: the copy is quarantined too, unread, and linked to the
    first one and its case; it opens no second case."""
    raw = mailgen.request("access", "nl", seed=48, subject="Inzage", sender=SENDER)
    source = FakeSource({1: (raw, RECEIVED)})
    died_twice(db, source, [1])
    proc, box = processor(db, pipeline)
    proc.process_mailbox(box, source)  # type: ignore[arg-type]
    source.messages[2] = (raw, LATER)
    died_twice(db, source, [2])
    stats = proc.process_mailbox(box, source)  # type: ignore[arg-type]
    assert (stats.quarantined, stats.cases_opened) == (1, 0)
    with db.sessions() as s:
        case = only_case(s)
        rows = {m.uid: m for m in s.scalars(select(Message))}
        assert rows[2].status == "quarantined" and rows[2].duplicate_of_id == rows[1].id
        assert rows[1].case_id == rows[2].case_id == case.id
    # Both copies dead in one batch: one case.
    source.messages[3] = (raw, LATER)
    source.messages[4] = (raw, LATER)
    died_twice(db, source, [3, 4])
    stats = proc.process_mailbox(box, source)  # type: ignore[arg-type]
    assert (stats.quarantined, stats.cases_opened) == (2, 0)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_copies_of_a_poison_in_one_batch_open_one_case(db, pipeline) -> None:
    raw = mailgen.request("access", "nl", seed=49, subject="Inzage", sender=SENDER)
    source = FakeSource({1: (raw, RECEIVED), 2: (raw, LATER)})
    stats = after_two_deaths(db, pipeline, source, [1, 2])
    assert (stats.quarantined, stats.cases_opened) == (2, 1)
    with db.sessions() as s:
        case = only_case(s)
        rows = {m.uid: m for m in s.scalars(select(Message))}
        assert rows[1].case_id == rows[2].case_id == case.id
        assert rows[2].duplicate_of_id == rows[1].id and rows[1].duplicate_of_id is None
        assert case.received_at == RECEIVED  # the first copy's receipt


def test_a_copy_in_the_same_batch_is_its_duplicate_too(db, pipeline) -> None:
    raw = mailgen.request("access", "nl", seed=44, subject="Inzage", sender=SENDER)
    source = FakeSource({1: (raw, RECEIVED), 2: (raw, LATER)})
    stats = after_two_deaths(db, pipeline, source)
    assert (stats.quarantined, stats.duplicates, stats.cases_opened) == (1, 1, 1)
    with db.sessions() as s:
        case = only_case(s)
        assert {m.uid: (m.status, m.case_id) for m in s.scalars(select(Message))} == {
            1: ("quarantined", case.id), 2: ("duplicate", case.id)}


@pytest.mark.parametrize("raw, address, subject", [
    (b"Subject: Verzoek\r\nMessage-ID: <x1@example.be>\r\n\r\nGeachte,\r\n", "", "Verzoek"),
    (b"\x00\xff garbage without any header\r\n", "", ""),
], ids=["no-from", "no-header"])
def test_without_a_readable_sender_the_case_opens_with_no_requester(db, pipeline, raw, address,
                                                                    subject) -> None:
    source = FakeSource({1: (raw, RECEIVED)})
    died_twice(db, source, [1])
    proc, box = processor(db, pipeline)
    stats = proc.process_mailbox(box, source)  # type: ignore[arg-type]
    assert (stats.quarantined, stats.cases_opened, stats.acknowledgements_queued) == (1, 1, 0)
    with db.sessions() as s:
        case = only_case(s)
        message = s.scalars(select(Message)).one()
        assert case.requester_address == address and case.kind == "to_classify"
        assert message.subject == subject
        assert case.due_date == expected_due(RECEIVED) and case.needs_review
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
        # The digest lists it among the cases to classify, and the quarantine with its case.
        digest = collect_digest(s, proc.settings, "ago", LATER)
        [line] = digest.section("to_classify").lines
        assert line.reference == case.reference and line.requester == "-"
        review = [x for x in digest.section("review").lines if x.status == "quarantined"]
        assert [x.reference for x in review] == [case.reference]


def test_a_message_whose_recording_fails_gets_a_case_to_classify(db, pipeline,
                                                                 monkeypatch) -> None:
    import intake.cases.recorder as recorder

    real = recorder.build_acknowledgement

    def flaky(context, incoming, **kwargs):
        if incoming.from_address == "persoon1@example.be":
            raise RuntimeError("simulated bug while rendering")
        return real(context, incoming, **kwargs)

    monkeypatch.setattr(recorder, "build_acknowledgement", flaky)
    raws = [mailgen.request("access", "nl", seed=600 + i, sender=(f"Persoon {i}",
                                                                  f"persoon{i}@example.be"))
            for i in range(3)]
    source = FakeSource({i + 1: (raw, RECEIVED) for i, raw in enumerate(raws)})
    proc, box = processor(db, pipeline)
    stats = proc.process_mailbox(box, source)  # type: ignore[arg-type]
    assert (stats.recorded, stats.quarantined, stats.cases_opened) == (2, 1, 3)
    assert stats.acknowledgements_queued == 2
    assert set(source.quarantined) == {2} and source.processed == {1, 3}
    with db.sessions() as s:
        cases = {c.requester_address: c for c in s.scalars(select(Case))}
        case = cases["persoon1@example.be"]
        assert case.kind == "to_classify" and case.due_date == expected_due(RECEIVED)
        assert case.review_reason.startswith("quarantined (RuntimeError: simulated bug")
        assert case.review_reason.endswith(": not read; to classify by hand")
        recipients = set(s.scalars(select(OutboxItem.recipient)))
        assert recipients == {"persoon0@example.be", "persoon2@example.be"}
        # References without gaps, in the order of the messages.
        assert sorted((c.seq, a) for a, c in cases.items()) == [
            (1, "persoon0@example.be"), (2, "persoon1@example.be"), (3, "persoon2@example.be")]


def test_a_failure_to_open_the_case_leaves_the_message_quarantined(db, pipeline,
                                                                 monkeypatch) -> None:
    """Should opening the case fail, the message is quarantined as before and the mailbox goes
    on: a bug there must not stop the mailbox on this message."""
    from intake.cases import manual

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug in open_case")

    monkeypatch.setattr(manual, "open_case", broken)
    raw = mailgen.request("access", "nl", seed=45, sender=SENDER)
    fine = mailgen.request("access", "nl", seed=46, sender=("An Wouters", "an@example.be"))
    source = FakeSource({1: (raw, RECEIVED), 2: (fine, RECEIVED)})
    stats = after_two_deaths(db, pipeline, source)
    assert (stats.quarantined, stats.recorded, stats.cases_opened) == (1, 1, 1)
    with db.sessions() as s:
        message = s.scalars(select(Message).where(Message.uid == 1)).one()
        assert message.status == "quarantined" and message.case_id is None
        assert [c.requester_address for c in s.scalars(select(Case))] == ["an@example.be"]


def test_header_fields_read_the_header_block_only() -> None:
    raw = (b"From: =?utf-8?q?Jos=C3=A9?= <Jose@Example.be>\r\nSubject: Inzage\r\n"
           b"Message-ID: <a@b>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
           b"--x\r\nFrom: other@example.be\r\n\r\nbody\r\n--x--\r\n")
    fields = header_fields(raw)
    assert fields is not None
    assert (fields.from_name, fields.from_address, fields.subject, fields.message_id) == (
        "José", "jose@example.be", "Inzage", "<a@b>")
    assert header_fields(b"") is None


def test_staff_see_it_resolve_it_and_cannot_open_a_second_case(db, pipeline, tmp_path,
                                                               capsys) -> None:
    """`intake cases quarantine` names its case; `intake messages open-case` refuses it (it has
    its case); `intake cases reclassify` resolves it like any case to classify."""
    import json

    from intake.cli import main
    from tests.casework import write_settings

    raw = mailgen.request("access", "nl", seed=47, sender=SENDER)
    source = FakeSource({1: (raw, RECEIVED)})
    after_two_deaths(db, pipeline, source)
    config = str(write_settings(tmp_path, db.url))
    with db.sessions() as s:
        message_id, reference = s.execute(
            select(Message.id, Case.reference).join(Case, Case.id == Message.case_id)).one()

    def intake(*argv: str) -> tuple[int, str, str]:
        try:
            code = main([*argv, "--config", config])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = intake("cases", "quarantine", "--json")
    assert code == 0
    [listed] = json.loads(out)["quarantined"]
    assert (listed["message"], listed["case"], listed["reason"]) == (
        message_id, reference, inflight.WORKER_DIED)
    code, out, _ = intake("cases", "quarantine")
    assert code == 0 and reference in out
    code, _, err = intake("messages", "open-case", str(message_id), "--rights", "access",
                          "--as", "an")
    assert code == 1 and f"already in case {reference}" in err
    code, out, err = intake("cases", "reclassify", reference, "--rights", "access", "--as", "an")
    assert code == 0, err
    with db.sessions() as s:
        case = only_case(s)
        assert (case.kind, case.right_names, case.needs_review) == ("request", ("access",), False)
        assert case.due_date == expected_due(RECEIVED)  # the clock kept since receipt
        # the neutral acknowledgement at the quarantine; reclassifying sends nothing more
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 1


def _with_headers(raw: bytes, extra: str) -> bytes:
    return extra.encode() + b"\r\n" + raw


@pytest.mark.parametrize("raw", [
    _with_headers(mailgen.request("erasure", "nl", seed=61, sender=SENDER),
                  "Auto-Submitted: auto-replied"),
    mailgen.request("erasure", "nl", seed=62, sender=("DPO", AGO["address"])),
    _with_headers(mailgen.request("erasure", "nl", seed=63, sender=SENDER),
                  "Authentication-Results: mx.vlaanderen.be; dmarc=fail (p=REJECT) "
                  "header.from=example.be"),
], ids=["auto-reply", "own-address", "dmarc-reject"])
def test_a_quarantined_message_is_acknowledged_only_as_the_triage_would(db, pipeline,
                                                                        raw) -> None:
    """The neutral acknowledgement of a quarantined message passes the header checks every
    reply passes: no answer to a robot, to our own address, or to a spoofed sender."""
    source = FakeSource({1: (raw, RECEIVED)})
    stats = after_two_deaths(db, pipeline, source)
    assert (stats.quarantined, stats.cases_opened, stats.acknowledgements_queued) == (1, 1, 0)
    with db.sessions() as s:
        assert only_case(s).kind == "to_classify"
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
