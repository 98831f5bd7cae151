"""`intake cases …` as staff use it: filters, the timeline, every change audited with its actor."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from intake.cases.deadlines import Calendar, extended_due_date
from intake.cli import main
from intake.store.models import CaseRight, Event, Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import (
    AGO_BOX,
    JAN,
    MARIE,
    WSE_BOX,
    Inbox,
    case,
    outbox,
    parse_reply,
    write_settings,
)

ACCESS, COMPLAINT, QUESTION, OBJECTION = (
    "DPO-AGO-2026-0001", "DPO-AGO-2026-0002", "DPO-AGO-2026-0003", "DPO-WSE-2026-0001")
# A week before the machine's today, so the first month is still running for `extend`.
RECENT = datetime.combine(datetime.now(BRUSSELS).date() - timedelta(days=7), time(10),
                          tzinfo=BRUSSELS)


@pytest.fixture
def world(db, pipeline, tmp_path):
    """Four cases: access (waiting for proof), a recent complaint, a question, a WSE objection."""
    inbox = Inbox(db.sessions, pipeline)
    pieter = ("Pieter Maes", "pieter.maes@example.be")
    els = ("Els Janssens", "els.janssens@example.be")
    mails = [
        (AGO_BOX, mailgen.request("access", "nl", to=AGO_BOX.address, sender=JAN, seed=61),
         datetime(2026, 3, 5, 10, tzinfo=BRUSSELS)),
        (AGO_BOX, mailgen.request("complaint", "fr", to=AGO_BOX.address, sender=MARIE, seed=62),
         RECENT),
        (AGO_BOX, mailgen.question("nl", to=AGO_BOX.address, sender=els, seed=4),
         datetime(2026, 3, 6, 11, tzinfo=BRUSSELS)),
        (WSE_BOX, mailgen.request("objection", "nl", to=WSE_BOX.address, sender=pieter, seed=9),
         datetime(2026, 3, 10, 9, tzinfo=BRUSSELS)),
    ]
    refs = [inbox.deliver(box, raw, when).case_reference for box, raw, when in mails]
    assert refs == [ACCESS, COMPLAINT, QUESTION, OBJECTION]
    with db.sessions() as s:
        kinds = [(case(s, r).kind, case(s, r).status) for r in refs]
    assert kinds == [("request", "awaiting_identity"), ("request", "open"), ("question", "open"),
                     ("request", "open")]
    db.config = str(write_settings(tmp_path, db.url))
    return db


def intake(capsys, world, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([*argv, "--config", world.config])
    except SystemExit as exc:  # argparse refuses the command line
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys, world, *filters: str) -> list[str]:
    code, out, _ = intake(capsys, world, "cases", "list", "--json", *filters)
    assert code == 0
    return [json.loads(line)["reference"] for line in out.splitlines()]


def events(world, reference: str, type_: str) -> list[Event]:
    with world.sessions() as s:
        return list(s.scalars(select(Event).where(Event.case_id == case(s, reference).id,
                                                  Event.type == type_).order_by(Event.id)))


def test_list_filters(capsys, world):
    assert listed(capsys, world) == [ACCESS, QUESTION, OBJECTION, COMPLAINT]
    assert listed(capsys, world, "--mailbox", "wse") == [OBJECTION]
    assert listed(capsys, world, "--status", "awaiting_identity") == [ACCESS]
    assert listed(capsys, world, "--right", "complaint") == [COMPLAINT]
    # Due 7 April (suspended, the date as it stood) and 10 April; the complaint is due later.
    assert listed(capsys, world, "--due-before", "2026-04-10") == [ACCESS, OBJECTION]
    assert listed(capsys, world, "--due-before", "2026-04-09") == [ACCESS]
    with world.sessions() as s, s.begin():
        case(s, QUESTION).needs_review = True
    assert listed(capsys, world, "--needs-review") == [QUESTION]
    code, out, _ = intake(capsys, world, "cases", "list", "--status", "open")
    assert code == 0 and out.strip().endswith("3 case(s)") and "[review]" in out
    code, _, err = intake(capsys, world, "cases", "list", "--due-before", "soon")
    assert code == 2 and "not a date" in err


def test_show_has_clock_timeline_and_identity_but_no_body_unless_asked(capsys, world):
    with world.sessions() as s:
        body = s.scalars(select(Message.body_text)
                         .where(Message.case_id == case(s, ACCESS).id)).one()
    sentence = max(body.splitlines(), key=len)
    code, out, _ = intake(capsys, world, "cases", "show", ACCESS)
    assert code == 0
    assert "suspended 2026-03-05 -> now" in out and "31 days left" in out
    assert "clock_suspended" in out and "identity: none" in out
    assert "acknowledgement to jan.peeters@example.be: pending" in out
    assert sentence not in out
    code, out, _ = intake(capsys, world, "cases", "show", ACCESS, "--body")
    assert code == 0 and sentence in out
    code, out, _ = intake(capsys, world, "cases", "show", ACCESS.lower(), "--json")
    detail = json.loads(out)
    assert detail["clock"]["suspensions"] == [{"from": "2026-03-05", "to": None}]
    assert detail["messages"][0]["identity"] == {"status": "none", "evidence": [],
                                                 "dmarc_failed": False}
    assert "body" not in detail["messages"][0]
    assert [e["actor"] for e in detail["events"]] == ["intake"] * len(detail["events"])
    code, _, err = intake(capsys, world, "cases", "show", "DPO-AGO-2026-9999")
    assert code == 2 and "no case" in err


def test_assign_and_note_record_the_actor(capsys, world):
    code, out, _ = intake(capsys, world, "cases", "assign", COMPLAINT, "Els Janssens")
    assert code == 0 and "assigned to Els Janssens" in out
    [assigned] = events(world, COMPLAINT, "assigned")
    assert assigned.actor == getpass.getuser()
    assert assigned.data == {"assignee": "Els Janssens", "before": None}
    code, _, _ = intake(capsys, world, "cases", "note", COMPLAINT, "Gebeld met de dienst HR.",
                        "--as", "jan")
    assert code == 0
    [note] = events(world, COMPLAINT, "note")
    assert (note.actor, note.reason) == ("jan", "Gebeld met de dienst HR.")
    code, _, err = intake(capsys, world, "cases", "note", COMPLAINT, "  ")
    assert code == 1 and "needs text" in err
    assert listed(capsys, world, "--status", "open")  # still readable
    with world.sessions() as s:
        assert case(s, COMPLAINT).assignee == "Els Janssens"


def test_reclassify_records_the_correction_and_updates_rights(capsys, world):
    with world.sessions() as s, s.begin():
        c = case(s, ACCESS)
        c.needs_review, c.review_reason = True, "low confidence"
    code, out, _ = intake(capsys, world, "cases", "reclassify", ACCESS,
                          "--rights", "access,erasure", "--as", "els")
    assert code == 0 and "rights access, erasure" in out
    [event] = events(world, ACCESS, "reclassified")
    assert event.data == {"rights_before": ["access"], "rights": ["access", "erasure"]}
    assert event.actor == "els" and event.message_pk is not None
    with world.sessions() as s:
        c = case(s, ACCESS)
        rows = s.scalars(select(CaseRight).where(CaseRight.case_id == c.id)
                         .order_by(CaseRight.position)).all()
        assert [(r.right, r.position) for r in rows] == [("access", 0), ("erasure", 1)]
        assert not c.needs_review and c.review_reason is None
        assert c.status == "awaiting_identity"  # the clock is untouched

    # A question that is really a request: the clock runs from the day of receipt
    # (Friday 6 March 2026 -> Monday 6 April is Easter Monday -> Tuesday 7 April).
    code, out, _ = intake(capsys, world, "cases", "reclassify", QUESTION, "--rights", "access")
    assert code == 0 and "proof of identity is needed" in out
    with world.sessions() as s:
        c = case(s, QUESTION)
        assert (c.kind, c.due_date, c.target_date) == ("request", date(2026, 4, 7), None)
    assert len(events(world, QUESTION, "clock_started")) == 1

    # A request that is only a question: no legal clock, the service target instead.
    code, _, _ = intake(capsys, world, "cases", "reclassify", OBJECTION, "--rights", "")
    assert code == 0
    with world.sessions() as s:
        c = case(s, OBJECTION)
        assert (c.kind, c.due_date, c.target_date) == ("question", None, date(2026, 4, 9))
    [moved] = events(world, OBJECTION, "reclassified")
    assert moved.data == {"rights_before": ["objection"], "rights": []}

    code, _, err = intake(capsys, world, "cases", "reclassify", ACCESS, "--rights", "inzage")
    assert code == 1 and "not a right" in err


def test_identity_at_the_desk_resumes_the_clock_and_confirms(capsys, world):
    code, _, err = intake(capsys, world, "cases", "identity", ACCESS, "--received", "per post",
                          "--on", "2026-03-01")
    assert code == 1 and "before it was asked" in err
    # Received 5 March with 31 days left; proof on 20 March: due 20 April 2026.
    code, out, _ = intake(capsys, world, "cases", "identity", ACCESS, "--received",
                          "kopie identiteitskaart per post", "--on", "2026-03-20", "--as", "els")
    assert code == 0 and "due 2026-04-20" in out
    with world.sessions() as s:
        c = case(s, ACCESS)
        assert (c.status, c.due_date, c.identity_status) == ("open", date(2026, 4, 20), "id_copy")
        first = s.scalars(select(Message).where(Message.case_id == c.id)).one()
        [item] = outbox(s, "identity_confirmation")
        assert item.reply_to_pk == first.id
    [received] = events(world, ACCESS, "identity_received")
    assert (received.actor, received.reason) == ("els", "kopie identiteitskaart per post")
    mail = parse_reply(item)
    assert mail["In-Reply-To"] == first.message_id and mail["Auto-Submitted"] == "auto-generated"
    assert "uiterlijk op 20 april 2026" in " ".join(mail.get_content().split())

    code, out, _ = intake(capsys, world, "cases", "identity", ACCESS, "--received", "again")
    assert code == 0 and "not waiting" in out
    with world.sessions() as s:
        assert len(outbox(s, "identity_confirmation")) == 1


def test_extend_a_running_case_queues_the_notice(capsys, world):
    code, out, _ = intake(capsys, world, "cases", "extend", COMPLAINT, "--reason",
                          "Veel verzoeken tegelijk.", "--as", "els")
    expected = extended_due_date(RECENT, Calendar(AGO_BOX.extra_holidays)).due
    assert code == 0 and f"new due date {expected}" in out
    with world.sessions() as s:
        assert case(s, COMPLAINT).due_date == expected
        [notice] = outbox(s, "extension_notice")
        assert notice.recipient == MARIE[1] and notice.status == "pending"
    code, _, err = intake(capsys, world, "cases", "extend", QUESTION, "--reason", "x")
    assert code == 1 and "no legal clock" in err


def test_close_records_outcome_and_timeliness_and_reopen_clears_it(capsys, world):
    code, _, err = intake(capsys, world, "cases", "close", COMPLAINT, "--outcome", "refused")
    assert code == 1 and "12(4)" in err
    code, out, _ = intake(capsys, world, "cases", "close", COMPLAINT, "--outcome", "answered",
                          "--reason", "antwoord per e-mail", "--as", "els")
    today = datetime.now(UTC).astimezone(BRUSSELS).date()
    assert code == 0 and "on time" in out
    code, out, _ = intake(capsys, world, "cases", "close", OBJECTION, "--outcome", "answered")
    assert code == 0 and "LATE" in out  # due 10 April 2026, answered months later
    # Withdrawn while waiting for proof: the period was not running, so not late.
    assert intake(capsys, world, "cases", "close", ACCESS, "--outcome", "withdrawn")[0] == 0
    with world.sessions() as s:
        assert [(case(s, r).outcome, case(s, r).answered_on, case(s, r).on_time)
                for r in (COMPLAINT, OBJECTION, ACCESS)] == [
            ("answered", today, True), ("answered", today, False), ("withdrawn", today, True)]
    [closed] = events(world, COMPLAINT, "closed")
    assert closed.actor == "els" and closed.data["on_time"] is True
    code, _, err = intake(capsys, world, "cases", "close", COMPLAINT, "--outcome", "answered")
    assert code == 1 and "already closed" in err

    code, out, _ = intake(capsys, world, "cases", "reopen", OBJECTION, "--reason",
                          "verzoeker betwist het antwoord", "--as", "jan")
    assert code == 0 and "reopened (open)" in out
    assert intake(capsys, world, "cases", "reopen", ACCESS, "--reason", "toch")[1].endswith(
        "reopened (awaiting_identity) (by " + getpass.getuser() + ")\n")
    with world.sessions() as s:
        c = case(s, OBJECTION)
        assert (c.status, c.outcome, c.answered_on, c.on_time) == ("open", None, None, None)
    [reopened] = events(world, OBJECTION, "reopened")
    assert reopened.actor == "jan" and reopened.data["before"]["outcome"] == "answered"
    code, _, err = intake(capsys, world, "cases", "reopen", OBJECTION, "--reason", "x")
    assert code == 1 and "not closed" in err


def test_unknown_reference_and_bad_settings_exit_2(capsys, world, tmp_path):
    for argv in (("assign", "DPO-AGO-2026-0404", "els"), ("note", "DPO-X-1", "text"),
                 ("extend", "DPO-AGO-2026-0404", "--reason", "x")):
        code, _, err = intake(capsys, world, "cases", *argv)
        assert code == 2 and "no case" in err
    code = main(["cases", "note", ACCESS, "x", "--config", str(tmp_path / "missing.toml")])
    assert code == 2 and "file not found" in capsys.readouterr().err
