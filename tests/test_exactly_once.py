"""Nothing lost, nothing handled twice: processing interrupted at every step, on real Dovecot."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from intake.daemon import Worker
from intake.processor import FAULT_POINTS, SimulatedCrash
from intake.source.base import PROCESSED_KEYWORD
from intake.store.models import Case, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO, mailbox, make_settings

RECEIVED = datetime(2026, 6, 2, 9, 30, tzinfo=BRUSSELS)
AGO_ADDR = "dpo.ago@vlaanderen.be"


def requests(n: int, seed: int = 100) -> list[bytes]:
    rights = ["access", "erasure", "objection", "rectification", "portability"]
    return [
        mailgen.request(
            rights[i % len(rights)],
            "nl",
            to=AGO_ADDR,
            seed=seed + i,
            sender=(f"Persoon {i}", f"persoon{i}@example.be"),
        )
        for i in range(n)
    ]


def counts(db) -> dict[str, int]:
    with db.sessions() as s:
        return {
            "messages": s.scalar(select(func.count()).select_from(Message)),
            "cases": s.scalar(select(func.count()).select_from(Case)),
            "outbox": s.scalar(select(func.count()).select_from(OutboxItem)),
        }


def crash_at(point: str, nth: int):
    """A fault hook that 'kills the process' at `point` while handling the nth batch."""
    batches: list[list[int]] = []

    def hook(where: str, batch) -> None:
        if where == "before_commit":
            batches.append([f.uid for f in batch])
        if where == point and len(batches) == nth:
            raise SimulatedCrash(f"{point} in batch {nth}")

    return hook


@pytest.mark.parametrize("batch_size", [1, 50])
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_crash_at_each_step_then_restart(point, batch_size, imap, smtp_server, db, pipeline):
    uids = [imap.append(raw, msg_time=RECEIVED) for raw in requests(3)]
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    # With batches of one, crash while handling the 2nd message; with 50, in the only batch.
    nth = 2 if batch_size == 1 else 1
    committed_before_crash = {
        ("before_commit", 1): 1,
        ("after_commit", 1): 2,
        ("after_mark", 1): 2,
        ("before_commit", 50): 0,
        ("after_commit", 50): 3,
        ("after_mark", 50): 3,
    }[(point, batch_size)]
    marked_but_unflagged = (
        committed_before_crash - (nth - 1) * batch_size if (point == "after_commit") else 0
    )

    crashing = Worker(
        settings,
        pipeline=pipeline,
        processor_kwargs={"fault_hook": crash_at(point, nth), "batch_size": batch_size},
    )
    with pytest.raises(SimulatedCrash):
        crashing.run_once()
    crashing.engine.dispose()
    assert counts(db)["messages"] == committed_before_crash

    report = Worker(
        settings, pipeline=pipeline, processor_kwargs={"batch_size": batch_size}
    ).run_once()
    assert counts(db) == {"messages": 3, "cases": 3, "outbox": 3}
    assert report.passes[0].already_recorded == marked_but_unflagged
    for uid in uids:
        assert PROCESSED_KEYWORD in imap.flags("INBOX", uid)
    with db.sessions() as s:
        refs = sorted(s.scalars(select(Case.reference)))
    assert refs == ["DPO-AGO-2026-0001", "DPO-AGO-2026-0002", "DPO-AGO-2026-0003"]
    assert len(smtp_server.wait_for(3)) == 3
    # A third run changes nothing.
    Worker(settings, pipeline=pipeline).run_once()
    assert counts(db) == {"messages": 3, "cases": 3, "outbox": 3}
    assert len(smtp_server.received) == 3


def test_uidvalidity_reset_is_recognised_by_content(imap, smtp_server, db, pipeline):
    raws = requests(2, seed=200)
    for raw in raws:
        imap.append(raw, msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    Worker(settings, pipeline=pipeline).run_once()
    old = imap.uidvalidity()

    imap.recreate_folder("INBOX")  # the server renumbers the folder; the mail comes back unflagged
    for raw in raws:
        imap.append(raw, msg_time=RECEIVED)
    assert imap.uidvalidity() != old
    report = Worker(settings, pipeline=pipeline).run_once()

    assert report.passes[0].duplicates == 2
    assert counts(db) == {"messages": 4, "cases": 2, "outbox": 2}
    with db.sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Event).where(Event.type == "uidvalidity_changed")
            )
            == 1
        )
    assert len(smtp_server.wait_for(2)) == 2
    for uid in imap.uids():
        assert PROCESSED_KEYWORD in imap.flags("INBOX", uid)


def test_same_mail_delivered_twice_opens_one_case(imap, smtp_server, db, pipeline):
    raw = requests(1, seed=300)[0]
    imap.append(raw, msg_time=RECEIVED)
    imap.append(
        b"Received: from relay2.example.be by mx.vlaanderen.be; Tue, 2 Jun 2026 09:31:00 +0200\r\n"
        + raw,
        msg_time=RECEIVED,
    )
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    report = Worker(settings, pipeline=pipeline).run_once()
    assert (report.passes[0].recorded, report.passes[0].duplicates) == (1, 1)
    assert counts(db) == {"messages": 2, "cases": 1, "outbox": 1}


def test_reused_message_id_from_another_sender_is_not_swallowed(imap, smtp_server, db, pipeline):
    a = mailgen.request(
        "access",
        "nl",
        to=AGO_ADDR,
        seed=401,
        message_id="<same@example.be>",
        sender=("Anna Claes", "anna.claes@example.be"),
    )
    b = mailgen.request(
        "erasure",
        "nl",
        to=AGO_ADDR,
        seed=402,
        message_id="<same@example.be>",
        sender=("Bart Wouters", "bart.wouters@example.be"),
    )
    imap.append(a, msg_time=RECEIVED)
    imap.append(b, msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    Worker(settings, pipeline=pipeline).run_once()
    assert counts(db)["cases"] == 2


def test_move_mode_moves_after_commit(imap, smtp_server, db, pipeline):
    uids = [imap.append(raw, msg_time=RECEIVED) for raw in requests(2, seed=500)]
    settings = make_settings(
        db.url,
        [mailbox(AGO, imap.imap_settings(after="move", move_to="Verwerkt"))],
        smtp_server.settings(),
    )
    Worker(settings, pipeline=pipeline).run_once()
    assert imap.uids("INBOX") == []
    assert len(imap.uids("Verwerkt")) == len(uids)
    assert counts(db)["cases"] == 2


def test_a_message_that_breaks_recording_is_quarantined_alone(
    imap, smtp_server, db, pipeline, monkeypatch
):
    import intake.cases.recorder as recorder
    from intake.source.base import QUARANTINE_KEYWORD

    real = recorder.build_acknowledgement

    def flaky(context, incoming, **kwargs):
        if incoming.from_address == "persoon1@example.be":
            raise RuntimeError("simulated bug while rendering")
        return real(context, incoming, **kwargs)

    monkeypatch.setattr(recorder, "build_acknowledgement", flaky)
    uids = [imap.append(raw, msg_time=RECEIVED) for raw in requests(3, seed=600)]
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    report = Worker(settings, pipeline=pipeline).run_once()

    assert (report.passes[0].recorded, report.passes[0].quarantined) == (2, 1)
    assert "simulated bug" in report.passes[0].errors[0]
    with db.sessions() as s:
        # The quarantined message keeps the legal clock: a case to classify, in its place in
        # the series, and no acknowledgement.
        assert [(c.reference, c.kind, c.requester_address) for c in
                s.scalars(select(Case).order_by(Case.reference))] == [
            ("DPO-AGO-2026-0001", "request", "persoon0@example.be"),
            ("DPO-AGO-2026-0002", "to_classify", "persoon1@example.be"),
            ("DPO-AGO-2026-0003", "request", "persoon2@example.be"),
        ]
        quarantined = s.scalars(select(Message).where(Message.status == "quarantined")).one()
        assert quarantined.uid == uids[1] and "RuntimeError" in quarantined.quarantine_reason
        assert quarantined.case.review_reason.startswith("quarantined (RuntimeError: simulated")
        assert sorted(s.scalars(select(OutboxItem.recipient))) == [
            "persoon0@example.be", "persoon2@example.be"]
    assert QUARANTINE_KEYWORD in imap.flags("INBOX", uids[1])
    assert PROCESSED_KEYWORD in imap.flags("INBOX", uids[0])
    assert PROCESSED_KEYWORD in imap.flags("INBOX", uids[2])


def test_one_worker_per_mailbox_folder_at_a_time(imap, smtp_server, db, pipeline):
    from datetime import UTC, timedelta

    from intake.store.locks import locks_for_sessions
    from intake.store.models import MailboxState

    imap.append(requests(1, seed=700)[0], msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    now = datetime.now(UTC)
    with db.sessions() as s, s.begin():
        s.add(
            MailboxState(
                mailbox_key="ago",
                folder="INBOX",
                last_uid=0,
                lease_holder="other-host:4242",
                lease_until=now + timedelta(minutes=1),
            )
        )
    # A live worker holds the folder's lock: refused, and the holder is named.
    held = locks_for_sessions(db.sessions).try_acquire("mailbox:ago/INBOX")
    assert held is not None
    try:
        report = Worker(settings, pipeline=pipeline).run_once()
    finally:
        held.release()
    assert "other-host:4242" in report.errors["ago"]
    assert counts(db)["messages"] == 0

    # That worker died: its lock went with it. The lease row still names it and its time has
    # not run out, but that no longer blocks the successor (finding 2 of issue 13).
    report = Worker(settings, pipeline=pipeline, processor_kwargs={"worker_id": "me:1"}).run_once()
    assert report.errors == {} and counts(db)["cases"] == 1
    with db.sessions() as s:
        assert s.get(MailboxState, ("ago", "INBOX")).lease_holder is None  # released at the end


def test_lease_is_kept_while_a_slow_batch_is_triaged(imap, smtp_server, db, pipeline):
    # Triage can take long (OCR of attachments): the lease is renewed during it, before commit.
    from datetime import UTC, timedelta

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from intake.processor import LEASE
    from intake.store.models import MailboxState

    for raw in requests(4, seed=800):
        imap.append(raw, msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    clock = [datetime(2026, 6, 2, 10, 0, tzinfo=UTC)]

    def slow_clock() -> datetime:
        clock[0] += timedelta(seconds=40)  # every look at the clock: 40 s of OCR went by
        return clock[0]

    seen: list[datetime] = []
    # A plain reader (the worker's engine begins SQLite transactions IMMEDIATE, which would wait
    # for the batch's own write transaction).
    reader = create_engine(db.url)

    def before_commit(where: str, batch) -> None:
        if where == "before_commit":
            with Session(reader) as s:
                seen.append(s.get(MailboxState, ("ago", "INBOX")).lease_until)

    worker = Worker(settings, pipeline=pipeline,
                    processor_kwargs={"now": slow_clock, "fault_hook": before_commit})
    taken_until = clock[0] + timedelta(seconds=40) + LEASE
    try:
        report = worker.run_once()
    finally:
        reader.dispose()
    assert report.errors == {} and counts(db)["cases"] == 4
    assert seen and seen[0] > taken_until  # renewed during the triage of the batch
