"""The batch recorder: lookups once per batch, rows in message order, failed runs forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from intake.cases.recorder import BatchRecorder
from intake.config import MailboxSettings, MaildirSettings, SmtpSettings
from intake.message import parse_message
from intake.source.base import FetchedMessage
from intake.store.models import Case, Event, Message, OutboxItem, ReferenceCounter
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO

BOX = MailboxSettings(**AGO, maildir=MaildirSettings(path="unused"))
RECEIVED = datetime(2026, 6, 2, 9, 30, tzinfo=BRUSSELS)
NOW = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
AGO_ADDR = "dpo.ago@vlaanderen.be"


def person(i: int) -> tuple[str, str]:
    return (f"Persoon {i}", f"persoon{i}@example.be")


def items(pipeline, raws: list[bytes], first_uid: int = 1):
    out = []
    for uid, raw in enumerate(raws, start=first_uid):
        msg = parse_message(raw)
        fetched = FetchedMessage("ago", "INBOX", 1, uid, RECEIVED, raw)
        out.append((fetched, msg, pipeline.triage(msg)))
    return out


def record(session, run, smtp: SmtpSettings | None = None):
    recorder = BatchRecorder(session, BOX, smtp or SmtpSettings(), [m for _, m, _ in run], NOW)
    return recorder, recorder.record(run, lambda: NOW)


def test_a_run_numbers_its_cases_in_order_and_stores_the_counter(db, pipeline):
    run = items(pipeline, [mailgen.request("access", "nl", to=AGO_ADDR, seed=10 + i,
                                           sender=person(i)) for i in range(4)])
    with db.sessions() as s, s.begin():
        _, outcomes = record(s, run)
    assert [o.case_reference for o in outcomes] == [f"DPO-AGO-2026-000{i}" for i in range(1, 5)]
    with db.sessions() as s:
        assert s.get(ReferenceCounter, ("ago", 2026)).last_seq == 4
        messages = s.scalars(select(Message).order_by(Message.id)).all()
        assert [m.uid for m in messages] == [1, 2, 3, 4]
        cases = s.scalars(select(Case).order_by(Case.id)).all()
        assert [c.id for c in cases] == [m.case_id for m in messages]
        for case, message in zip(cases, messages, strict=True):
            events = s.scalars(select(Event).where(Event.case_id == case.id)
                               .order_by(Event.id)).all()
            assert events[0].type == "opened"
            assert events[-1].type == "acknowledgement_queued"
            assert {e.message_pk for e in events} <= {message.id, None}
        replies = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [(r.case_id, r.reply_to_pk) for r in replies] == [
            (m.case_id, m.id) for m in messages
        ]


def test_same_mail_twice_in_one_run_points_to_the_first(db, pipeline):
    raw = mailgen.request("erasure", "nl", to=AGO_ADDR, seed=20, sender=person(1))
    with db.sessions() as s, s.begin():
        _, outcomes = record(s, items(pipeline, [raw, raw]))
    assert [o.status for o in outcomes] == ["processed", "duplicate"]
    with db.sessions() as s:
        first, second = s.scalars(select(Message).order_by(Message.id)).all()
        assert second.duplicate_of_id == first.id and second.case_id == first.case_id
        assert first.case_id is not None


def test_reply_limit_counts_the_replies_queued_earlier_in_the_run(db, pipeline):
    raws = [mailgen.request(r, "nl", to=AGO_ADDR, seed=30 + i, sender=person(1))
            for i, r in enumerate(("access", "erasure", "objection"))]
    with db.sessions() as s, s.begin():
        _, outcomes = record(s, items(pipeline, raws), SmtpSettings(replies_per_sender_per_day=2))
    assert [o.acknowledgement_queued for o in outcomes] == [True, True, False]


def test_replies_of_the_last_day_are_counted_once_per_batch(db, pipeline):
    raws = [mailgen.request("access", "nl", to=AGO_ADDR, seed=40 + i, sender=person(2))
            for i in range(2)]
    with db.sessions() as s, s.begin():
        record(s, items(pipeline, raws[:1]), SmtpSettings(replies_per_sender_per_day=1))
        old = s.scalars(select(OutboxItem)).one()
        old.created_at = NOW - timedelta(days=1, minutes=1)  # just outside the window
    with db.sessions() as s, s.begin():
        _, outcomes = record(s, items(pipeline, raws[1:], first_uid=2),
                             SmtpSettings(replies_per_sender_per_day=1))
    assert outcomes[0].acknowledgement_queued


def test_a_failed_run_is_forgotten(db, pipeline, monkeypatch):
    import intake.cases.recorder as recorder_module

    raw = mailgen.request("access", "nl", to=AGO_ADDR, seed=50, sender=person(3))
    run = items(pipeline, [raw])
    with db.sessions() as s, s.begin():
        recorder = BatchRecorder(s, BOX, SmtpSettings(), [run[0][1]], NOW)

        def broken(*args, **kwargs):
            raise RuntimeError("simulated")

        monkeypatch.setattr(recorder_module, "build_acknowledgement", broken)
        with pytest.raises(RuntimeError), s.begin_nested():
            recorder.record(run, lambda: NOW)
        monkeypatch.undo()
        again = items(pipeline, [raw], first_uid=2)
        (outcome,) = recorder.record(again, lambda: NOW)
    # The rolled-back first attempt is no earlier copy: the second one opens the case.
    assert outcome.status == "processed" and outcome.case_reference == "DPO-AGO-2026-0001"
