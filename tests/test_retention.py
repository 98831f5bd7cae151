"""Retention purge: what goes, what stays, the anonymous audit line, and the append-only guard."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import delete, func, select, update

from intake.cases.operations import close_case
from intake.cases.retention import purge_expired
from intake.cases.workflow import PURGE_FLAG, WorkflowError, purging_events
from intake.cli import main
from intake.store.models import Case, CaseRight, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import (
    AGO_BOX,
    ID_CARD_JPEG,
    JAN,
    WSE_BOX,
    Inbox,
    case,
    settings_for,
    with_id_detector,
    write_settings,
)

NOW = datetime(2032, 6, 1, 12, 0, tzinfo=BRUSSELS)  # AgO keeps 5 years, WSE 3 (casework)
TABLES = {"case": Case, "case_right": CaseRight, "message": Message, "event": Event,
          "outbox": OutboxItem}


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, tzinfo=BRUSSELS)


def counts(db) -> dict[str, int]:
    with db.sessions() as s:
        return {name: s.scalar(select(func.count()).select_from(model))
                for name, model in TABLES.items()}


@pytest.fixture
def world(db, pipeline):
    """Cases closed long ago and recently, an open one, and loose mail old and new."""
    inbox = Inbox(db.sessions, with_id_detector(pipeline))
    ago = AGO_BOX.address
    pieter = ("Pieter Maes", "pieter.maes@example.be")
    access = mailgen.request("access", "nl", to=ago, sender=JAN, seed=81)
    old_news = mailgen.newsletter(to=ago, seed=82)
    refs = {
        "expired": inbox.deliver(AGO_BOX, access, at(2026, 3, 5)).case_reference,
        "recent": inbox.deliver(AGO_BOX, mailgen.request("erasure", "nl", to=ago, seed=83),
                                at(2026, 3, 6)).case_reference,
        "open": inbox.deliver(AGO_BOX, mailgen.request("objection", "nl", to=ago, seed=84),
                              at(2026, 3, 7)).case_reference,
        "wse": inbox.deliver(WSE_BOX, mailgen.request("objection", "nl", to=WSE_BOX.address,
                                                      sender=pieter, seed=85),
                             at(2026, 3, 10)).case_reference,
    }
    with db.sessions() as s:
        [ack] = s.scalars(select(OutboxItem).where(
            OutboxItem.case_id == case(s, refs["expired"]).id)).all()
    # The expired case gets the proof in a follow-up (a confirmation is queued) and a duplicate.
    inbox.deliver(AGO_BOX, mailgen.followup(refs["expired"], ack.message_id, sender=JAN, seed=86,
                                            attachments=[("id.jpg", "image/jpeg", ID_CARD_JPEG)]),
                  at(2026, 3, 12))
    inbox.deliver(AGO_BOX, access, at(2026, 3, 13))
    inbox.deliver(AGO_BOX, old_news, at(2026, 3, 8))  # listed, no case: expires
    inbox.deliver(AGO_BOX, old_news, at(2031, 3, 8))  # the same newsletter again, recently
    with db.sessions() as s, s.begin():
        s.add(Message(mailbox_key="ago", folder="INBOX", uidvalidity=1, uid=999,
                      content_hash="0" * 64, status="quarantined", received_at=at(2026, 3, 9),
                      quarantine_reason="unparseable"))
        close_case(s, case(s, refs["expired"]), "answered", "", "els", at(2027, 1, 10))
        close_case(s, case(s, refs["recent"]), "answered", "", "els", at(2028, 1, 10))
        close_case(s, case(s, refs["wse"]), "refused", "unfounded", "els", at(2029, 1, 5))
    db.refs, db.inbox = refs, inbox
    return db


def test_dry_run_reports_and_changes_nothing(world):
    before = counts(world)
    with world.sessions() as s, s.begin():
        report = purge_expired(s, settings_for(world.url), NOW, dry_run=True)
    assert counts(world) == before
    assert [c.reference for c in report.cases] == [world.refs["expired"], world.refs["wse"]]
    assert report.cutoffs == {"ago": "2027-06-01", "wse": "2029-06-01"}
    assert report.loose_messages == {"ago": {"processed": 1, "quarantined": 1}}
    # expired case: request, follow-up, duplicate; wse case: its request; two loose messages.
    assert report.rows["message"] == 6 and report.rows["case"] == 2
    assert report.rows["outbox"] == 3  # two acknowledgements and one identity confirmation


def test_purge_deletes_and_leaves_the_anonymous_audit_line(world):
    with world.sessions() as s, s.begin():
        dry = purge_expired(s, settings_for(world.url), NOW, dry_run=True)
    before = counts(world)
    with world.sessions() as s, s.begin():
        report = purge_expired(s, settings_for(world.url), NOW)
        assert PURGE_FLAG not in s.info
    assert report.rows == dry.rows
    after = counts(world)
    assert after["case"] == before["case"] - 2 and after["message"] == before["message"] - 6
    assert after["outbox"] == before["outbox"] - 3
    assert after["event"] == before["event"] - report.rows["event"] + 2 + 1  # 2 cases, 1 loose
    with world.sessions() as s:
        remaining = set(s.scalars(select(Case.reference)))
        assert remaining == {world.refs["recent"], world.refs["open"]}
        [loose_left] = s.scalars(select(Message).where(Message.case_id.is_(None))).all()
        assert loose_left.received_at.astimezone(BRUSSELS).year == 2031
        kept_dup = s.scalars(select(Message).where(Message.status == "duplicate")).one()
        assert kept_dup.duplicate_of_id is None  # its original is gone
        purged = s.scalars(select(Event).where(Event.type == "purged").order_by(Event.id)).all()
        assert [e.case_id for e in purged] == [None, None]
        assert purged[0].data == {"reference": world.refs["expired"], "mailbox": "ago",
                                  "year": 2026, "kind": "request", "rights": ["access"],
                                  "outcome": "answered", "on_time": False}  # closed in 2027
        assert purged[1].data["mailbox"] == "wse" and purged[1].data["outcome"] == "refused"
        loose = s.scalars(select(Event).where(Event.type == "messages_purged")).one()
        assert loose.data == {"mailbox": "ago", "statuses": {"processed": 1, "quarantined": 1}}
        assert "unfounded" not in json.dumps([e.data for e in purged])
        # The cases that stay keep their whole trail.
        recent = case(s, world.refs["recent"])
        assert s.scalar(select(func.count()).where(Event.case_id == recent.id)) >= 3
    with world.sessions() as s, s.begin():
        again = purge_expired(s, settings_for(world.url), NOW)
    assert again.cases == [] and sum(again.rows.values()) == 0


def test_ordinary_deletes_and_updates_of_events_are_still_refused(world):
    with world.sessions() as s, s.begin():
        purge_expired(s, settings_for(world.url), NOW)
    with world.sessions() as s:
        s.delete(s.scalars(select(Event)).first())
        with pytest.raises(WorkflowError, match="cannot be changed or deleted"):
            s.flush()
        s.rollback()
        with pytest.raises(WorkflowError):
            s.execute(delete(Event).where(Event.type == "purged"))
        s.rollback()
        with purging_events(s), pytest.raises(WorkflowError):  # the purge may not rewrite either
            s.execute(update(Event).values(reason="rewritten"))
        s.rollback()
    with world.sessions() as s:
        assert s.scalar(select(func.count()).where(Event.type == "purged")) == 2


def test_cli_dry_run_then_purge(world, tmp_path, capsys):
    # Against the machine's clock: a case closed in 2020 is past AgO's five years.
    raw = mailgen.request("complaint", "nl", to=AGO_BOX.address, seed=87)
    old = world.inbox.deliver(AGO_BOX, raw, at(2019, 5, 6)).case_reference
    with world.sessions() as s, s.begin():
        close_case(s, case(s, old), "withdrawn", "", "els", at(2020, 2, 3))
    config = str(write_settings(tmp_path, world.url))
    before = counts(world)
    assert main(["retention", "--dry-run", "--json", "--config", config]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and [c["reference"] for c in report["cases"]] == [old]
    assert report["cases"][0]["closed_on"] == "2020-02-03"
    assert counts(world) == before
    assert main(["retention", "--config", config]) == 0
    out = capsys.readouterr().out
    assert f"deleted {old}" in out and "deleted: 1 case(s)" in out
    with world.sessions() as s:
        assert s.scalars(select(Case).where(Case.reference == old)).first() is None
        purged = s.scalars(select(Event).where(Event.type == "purged")).one()
        assert purged.actor == "intake" and purged.data["year"] == 2019


def test_retention_is_per_mailbox(world):
    # 7 January 2032: WSE's case (closed 5 January 2029) is past its three years; AgO's
    # (closed 10 January 2027) is three days short of its five.
    with world.sessions() as s, s.begin():
        report = purge_expired(s, settings_for(world.url), at(2032, 1, 7), dry_run=True)
    assert [c.reference for c in report.cases] == [world.refs["wse"]]
    assert report.cutoffs == {"ago": date(2027, 1, 7).isoformat(),
                              "wse": date(2029, 1, 7).isoformat()}
