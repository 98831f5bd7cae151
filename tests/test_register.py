"""The register of requests (`intake cases export`): the columns, the filters, no personal data."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from intake.cases.operations import close_case
from intake.cases.register import COLUMNS
from intake.cli import main
from intake.store.models import Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import AGO_BOX, JAN, MARIE, WSE_BOX, Inbox, case, write_settings

PIETER = ("Pieter Maes", "pieter.maes@example.be")
ELS = ("Els Janssens", "els.janssens@example.be")


@pytest.fixture
def world(db, pipeline, tmp_path):
    inbox = Inbox(db.sessions, pipeline)
    mails = [
        (AGO_BOX, mailgen.request("access", "nl", to=AGO_BOX.address, sender=JAN, seed=71),
         datetime(2026, 3, 5, 10, tzinfo=BRUSSELS)),
        (AGO_BOX, mailgen.question("nl", to=AGO_BOX.address, sender=ELS, seed=4),
         datetime(2026, 3, 6, 11, tzinfo=BRUSSELS)),
        (WSE_BOX, mailgen.request("objection", "nl", to=WSE_BOX.address, sender=PIETER, seed=9),
         datetime(2026, 3, 10, 9, tzinfo=BRUSSELS)),
        # 22:30 UTC on 31 March is 00:30 on 1 April in Brussels: an April case.
        (AGO_BOX, mailgen.request("complaint", "fr", to=AGO_BOX.address, sender=MARIE, seed=72),
         datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),
    ]
    refs = [inbox.deliver(box, raw, when).case_reference for box, raw, when in mails]
    with db.sessions() as s, s.begin():
        close_case(s, case(s, refs[2]), "answered", "", "els",
                   datetime(2026, 4, 14, 15, tzinfo=BRUSSELS))  # due 10 April: late
        close_case(s, case(s, refs[3]), "refused", "manifestly unfounded", "els",
                   datetime(2026, 4, 20, 15, tzinfo=BRUSSELS))  # due 4 May: on time
    db.refs, db.config = refs, str(write_settings(tmp_path, db.url))
    return db


def export(capsys, world, *argv: str) -> tuple[int, str, str]:
    code = main(["cases", "export", *argv, "--config", world.config])
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_register_of_every_case(capsys, world, tmp_path):
    target = tmp_path / "register.csv"
    code, out, err = export(capsys, world, "--format", "csv", "--out", str(target))
    assert code == 0 and out == "" and "4 case(s) written" in err
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    access, question, objection, complaint = world.refs
    assert [r["reference"] for r in rows] == [access, question, objection, complaint]
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref[objection] == {
        "reference": objection, "controller": WSE_BOX.controller, "mailbox": "wse",
        "kind": "request", "rights": "objection", "received": "2026-03-10",
        "due": "2026-04-10", "extended": "no", "closed": "2026-04-14", "outcome": "answered",
        "on_time": "no"}
    assert (by_ref[complaint]["received"], by_ref[complaint]["due"]) == ("2026-04-01",
                                                                         "2026-05-04")
    assert (by_ref[complaint]["outcome"], by_ref[complaint]["on_time"]) == ("refused", "yes")
    assert (by_ref[question]["kind"], by_ref[question]["due"]) == ("question", "")
    assert (by_ref[access]["closed"], by_ref[access]["on_time"]) == ("", "")


def test_register_carries_no_personal_data(capsys, world):
    code, out, _ = export(capsys, world, "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 4
    with world.sessions() as s:
        bodies = s.scalars(select(Message.body_text)).all()
    for name, address in (JAN, MARIE, PIETER, ELS):
        assert name not in out and address not in out
    for body in bodies:
        assert max(body.splitlines(), key=len) not in out
    assert "manifestly unfounded" not in out  # reasons may name people: not in the register


def test_jsonl_filters_by_brussels_date_and_mailbox(capsys, world):
    _access, question, objection, complaint = world.refs
    code, out, _ = export(capsys, world, "--format", "jsonl", "--from", "2026-03-06",
                          "--to", "2026-03-31")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["reference"] for r in rows] == [question, objection]
    assert rows[1] == {"reference": objection, "controller": WSE_BOX.controller,
                       "mailbox": "wse", "kind": "request", "rights": ["objection"],
                       "received": "2026-03-10", "due": "2026-04-10", "extended": False,
                       "closed": "2026-04-14", "outcome": "answered", "on_time": False}
    code, out, _ = export(capsys, world, "--format", "jsonl", "--from", "2026-04-01")
    assert [json.loads(line)["reference"] for line in out.splitlines()] == [complaint]
    code, out, _ = export(capsys, world, "--format", "jsonl", "--mailbox", "wse")
    assert [json.loads(line)["reference"] for line in out.splitlines()] == [objection]
    assert date.fromisoformat(json.loads(out)["received"]) == date(2026, 3, 10)


def test_export_errors(capsys, world, tmp_path):
    code, _, err = export(capsys, world, "--mailbox", "nope")
    assert code == 2 and "no mailbox with key 'nope'" in err
    code, _, err = export(capsys, world, "--from", "2026-05-01", "--to", "2026-04-01")
    assert code == 2 and "--from is after --to" in err
    code, _, err = export(capsys, world, "--out", str(tmp_path / "missing" / "r.csv"))
    assert code == 2 and "cannot write" in err
