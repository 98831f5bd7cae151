"""Staff work on the fail-safe: reclassifying cases to classify, finding every recorded message,
opening a case from a listed message or by hand — through the `intake` command, audited."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from intake.cli import main
from intake.store.models import Case, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import AGO_BOX, JAN, MARIE, Inbox, case, parse_reply, write_settings

# Thursday 5 March 2026: due Tuesday 7 April 2026 (Easter).
RECEIVED = datetime(2026, 3, 5, 10, tzinfo=BRUSSELS)
ELS = ("Els Janssens", "els.janssens@example.be")
FIRST, SECOND, THIRD = "DPO-AGO-2026-0001", "DPO-AGO-2026-0002", "DPO-AGO-2026-0003"


@pytest.fixture
def world(db, blind_pipeline, tmp_path):
    """Three cases to classify (requests the classifier missed) and one listed invoice."""
    inbox = Inbox(db.sessions, blind_pipeline)
    mails = [
        mailgen.request("erasure", "nl", to=AGO_BOX.address, sender=JAN, seed=71),
        mailgen.question("nl", to=AGO_BOX.address, sender=ELS, seed=72),
        mailgen.plain_note("Goedemiddag, zie bijgaand ter info. Groeten, Marie", "nl",
                           to=AGO_BOX.address, sender=MARIE, seed=73),
        mailgen.invoice(to=AGO_BOX.address, seed=74),
    ]
    outcomes = [inbox.deliver(AGO_BOX, raw, RECEIVED) for raw in mails]
    assert [o.case_reference for o in outcomes] == [FIRST, SECOND, THIRD, None]
    with db.sessions() as s:
        assert {case(s, r).kind for r in (FIRST, SECOND, THIRD)} == {"to_classify"}
        assert {case(s, r).due_date for r in (FIRST, SECOND, THIRD)} == {date(2026, 4, 7)}
    db.config = str(write_settings(tmp_path, db.url))
    return db


def intake(capsys, world, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([*argv, "--config", world.config])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def events(world, reference: str, type_: str) -> list[Event]:
    with world.sessions() as s:
        return list(s.scalars(select(Event).where(Event.case_id == case(s, reference).id,
                                                  Event.type == type_).order_by(Event.id)))


def test_reclassify_to_request_question_or_no_case(capsys, world, tmp_path):
    code, out, _ = intake(capsys, world, "cases", "list", "--kind", "to_classify", "--json")
    assert code == 0
    assert [json.loads(line)["reference"] for line in out.splitlines()] == [FIRST, SECOND, THIRD]
    # A request: the clock keeps the due date it has had since receipt.
    code, out, _ = intake(capsys, world, "cases", "reclassify", FIRST, "--rights", "erasure",
                          "--as", "an")
    assert code == 0, out
    with world.sessions() as s:
        c = case(s, FIRST)
        assert (c.kind, c.right_names, c.due_date, c.needs_review) == (
            "request", ("erasure",), date(2026, 4, 7), False)
    assert len(events(world, FIRST, "clock_started")) == 1  # not restarted
    [moved] = events(world, FIRST, "reclassified")
    assert moved.actor == "an"
    assert moved.data == {"rights_before": [], "rights": ["erasure"],
                          "kind_before": "to_classify", "kind": "request"}

    # A question: the legal clock stops, the service target applies.
    code, _, _ = intake(capsys, world, "cases", "reclassify", SECOND, "--question", "--as", "an")
    assert code == 0
    with world.sessions() as s:
        c = case(s, SECOND)
        assert (c.kind, c.due_date, c.target_date) == (
            "question", None, date(2026, 3, 5) + timedelta(days=AGO_BOX.question_service_days))
    [cancelled] = events(world, SECOND, "clock_cancelled")
    assert cancelled.data == {"due_before": "2026-04-07"}

    # No case: a reason is required; then it is closed with outcome no_case.
    code, _, err = intake(capsys, world, "cases", "reclassify", THIRD, "--no-case", "--as", "an")
    assert code == 1 and "say why" in err
    code, _, _ = intake(capsys, world, "cases", "reclassify", THIRD, "--no-case", "--reason",
                        "a colleague's forwarded note, no request", "--as", "an")
    assert code == 0
    with world.sessions() as s:
        c = case(s, THIRD)
        assert (c.status, c.outcome, c.due_date) == ("closed", "no_case", None)
    # Only a case to classify can become no case.
    code, _, err = intake(capsys, world, "cases", "reclassify", FIRST, "--no-case", "--reason",
                          "x", "--as", "an")
    assert code == 1 and "only a case to classify" in err

    # The model-corrections export picks up all three decisions.
    code, out, _ = intake(capsys, world, "model", "export-corrections", "--out", "-")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted((line["source"], tuple(line["rights"])) for line in lines) == [
        (f"correction-{FIRST}", ("erasure",)), (f"correction-{SECOND}", ()),
        (f"correction-{THIRD}", ())]


def test_messages_list_show_and_open_case(capsys, world):
    code, out, _ = intake(capsys, world, "messages", "list", "--disposition", "list_only",
                          "--json")
    assert code == 0
    [invoice] = [json.loads(line) for line in out.splitlines()]
    assert invoice["case"] is None and invoice["reason"].startswith("no case: invoice")
    code, out, _ = intake(capsys, world, "messages", "list", "--mailbox", "ago")
    assert code == 0 and "4 message(s)" in out and FIRST in out

    code, out, _ = intake(capsys, world, "messages", "show", str(invoice["id"]))
    assert code == 0 and "disposition: list_only" in out and "no case: invoice" in out
    assert "IBAN" in out and "BE00" not in out  # the triage's conclusion, not the body

    code, out, err = intake(capsys, world, "messages", "open-case", str(invoice["id"]),
                            "--rights", "access", "--acknowledge", "--as", "an")
    assert code == 0, err
    assert "DPO-AGO-2026-0004" in out and "due 2026-04-07" in out
    with world.sessions() as s:
        c = case(s, "DPO-AGO-2026-0004")
        assert c.received_at == RECEIVED  # the message's INTERNALDATE
        message = s.get(Message, invoice["id"])
        assert message.case_id == c.id and message.disposition == "open_request"
        [opened] = s.scalars(select(Event).where(Event.case_id == c.id,
                                                 Event.type == "opened")).all()
        assert opened.actor == "an" and opened.message_pk == invoice["id"]
        [ack] = s.scalars(select(OutboxItem).where(OutboxItem.case_id == c.id)).all()
        assert ack.recipient == "facturen@drukkerij.example.be"
        assert ack.reply_to_pk == invoice["id"]
    # Once in a case, it cannot be opened again.
    code, _, err = intake(capsys, world, "messages", "open-case", str(invoice["id"]),
                          "--as", "an")
    assert code == 1 and "already in case" in err


def test_manual_case_by_post_has_the_same_series_clock_and_audit(capsys, world):
    code, out, err = intake(capsys, world, "cases", "open", "--mailbox", "ago", "--received",
                            "2026-03-05", "--requester", "Lien Mertens <lien@example.be>",
                            "--rights", "access,erasure", "--acknowledge", "--as", "an")
    assert code == 0, err
    assert out.startswith("DPO-AGO-2026-0004: opened (request: access, erasure)")
    with world.sessions() as s:
        c = case(s, "DPO-AGO-2026-0004")
        assert (c.kind, c.requester_address, c.requester_name) == (
            "request", "lien@example.be", "Lien Mertens")
        # AgO asks proof for access and erasure: the acknowledgement asks, the clock stops.
        assert c.status == "awaiting_identity" and c.clock_suspended_on == date(2026, 3, 5)
        types = [e.type for e in s.scalars(select(Event).where(Event.case_id == c.id)
                                            .order_by(Event.id))]
        assert types == ["opened", "clock_started", "clock_suspended", "acknowledgement_queued"]
        [ack] = s.scalars(select(OutboxItem).where(OutboxItem.case_id == c.id)).all()
        body = parse_reply(ack).get_content()
        assert "DPO-AGO-2026-0004" in body and "5 maart 2026" in body
    code, out, _ = intake(capsys, world, "cases", "list", "--json")
    assert "DPO-AGO-2026-0004" in out
    code, out, _ = intake(capsys, world, "cases", "export", "--format", "jsonl")
    assert code == 0 and "DPO-AGO-2026-0004" in out

    # Without --acknowledge the clock runs from receipt; a date in the future is refused.
    code, out, _ = intake(capsys, world, "cases", "open", "--mailbox", "ago", "--received",
                          "2026-03-05T15:00", "--requester", "Tom Claes", "--rights",
                          "objection", "--as", "an")
    assert code == 0 and "due 2026-04-07" in out
    code, _, err = intake(capsys, world, "cases", "open", "--mailbox", "ago", "--received",
                          "2999-01-01", "--requester", "Tom Claes", "--rights", "objection",
                          "--as", "an")
    assert code == 1 and "future" in err


def test_manual_case_scan_goes_through_the_identity_check_and_is_not_kept(
        capsys, world, tmp_path):
    from tests.casework import ID_CARD_JPEG

    scan = tmp_path / "id-kaart.jpg"
    scan.write_bytes(ID_CARD_JPEG)
    code, out, err = intake(capsys, world, "cases", "open", "--mailbox", "ago", "--received",
                            "2026-03-05", "--requester", "Koen Jacobs <koen@example.be>",
                            "--rights", "access", "--file", str(scan), "--as", "an")
    assert code == 0, err
    assert "identity id_copy" in out
    with world.sessions() as s:
        c = s.scalars(select(Case).where(Case.requester_address == "koen@example.be")).one()
        assert c.identity_status == "id_copy" and c.status == "open"
        [opened] = s.scalars(select(Event).where(Event.case_id == c.id,
                                                 Event.type == "opened")).all()
        found = opened.data["identity"]
        assert found["status"] == "id_copy"
        stored = json.dumps(found)
        assert "base64" not in stored and len(stored) < 4000  # the finding, not the image


def test_digest_opens_with_cases_to_classify_oldest_due_first(db, blind_pipeline):
    from datetime import UTC

    from intake.digest import collect_digest, render_digest
    from tests.casework import settings_for

    inbox = Inbox(db.sessions, blind_pipeline)
    later = inbox.deliver(AGO_BOX, mailgen.request("access", "nl", to=AGO_BOX.address,
                                                   sender=JAN, seed=81), RECEIVED)
    earlier = inbox.deliver(AGO_BOX, mailgen.request("erasure", "fr", to=AGO_BOX.address,
                                                     sender=MARIE, seed=82),
                            datetime(2026, 3, 2, 9, tzinfo=BRUSSELS))
    inbox.deliver(AGO_BOX, mailgen.meeting_invitation(to=AGO_BOX.address, seed=83), RECEIVED)
    inbox.deliver(AGO_BOX, mailgen.auto_reply("nl", to=AGO_BOX.address, seed=84), RECEIVED)
    now = datetime.now(UTC) + timedelta(minutes=1)
    with db.sessions() as s:
        digest = collect_digest(s, settings_for(db.url), "ago", now)
    first = digest.sections[0]
    assert first.key == "to_classify"
    assert [(line.reference, line.due) for line in first.lines] == [
        (earlier.case_reference, date(2026, 4, 2)), (later.case_reference, date(2026, 4, 7))]
    assert digest.section("review").total == 0  # not repeated there
    listed = digest.section("listed")
    assert [g.key for g in listed.groups] == ["mailbox:ago"]
    assert sorted(line.status for line in listed.lines) == ["list_only", "robot"]
    _subject, text, _html = render_digest(digest, "fr")
    assert text.index("== À classer") < text.index(earlier.case_reference)
    assert "Uitnodiging: overleg verwerkingsregister — calendar:" in text
