"""The register and the digest read cases as columns: the very rows and lines the ORM gave.

tests/ormoracle.py keeps the ORM versions (before the column queries) as the oracle; a varied
set of cases (both mailboxes and one no longer configured, requests, questions and cases to
classify, suspended, extended, closed in every way, reclassified, flagged for review, rights
out of alphabetical order, receipts around midnight, more overdue cases than a section shows)
must give equal register rows and equal digests, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from intake.cases.register import (
    csv_chunks,
    register_csv_lines,
    register_filter,
    register_rows,
    write_register,
)
from intake.digest import collect_digest
from intake.digest.collect import MAX_LINES
from intake.store.timezone import BRUSSELS
from tests import casefactory as cf
from tests import ormoracle
from tests.fixtures.webapp import add_listed_mail

RIGHTS = ("rectification", "access", "portability", "erasure", "objection", "restriction")
NAMES = ("Jan Peeters", "Els Janssens", f"Bram Goossens {cf.NATIONAL_NUMBER}",
         "Zoë\u200b Lambert\x07", "")


def _vary(session, seed: int = 16) -> None:
    """About 240 more cases, each drawn from every way a case can stand; two listed mails."""
    rng = random.Random(seed)
    factory = cf.Factory(session)
    for i in range(240):
        mailbox = ("ago", "wse", "old")[0 if i % 3 else (1 if i % 2 else 2)]
        if i % 11 == 0:  # 22:30 UTC: already the next day in Brussels
            received = (datetime(2026, 1, 1, 22, 30, tzinfo=UTC)
                        + timedelta(days=rng.randint(0, 150)))
        else:
            received = cf.at(cf.NOW.date() - timedelta(days=rng.randint(0, 200)),
                             rng.randint(7, 18))
        kind = rng.choice(("request", "request", "request", "question", "to_classify"))
        rights = tuple(rng.sample(RIGHTS, rng.randint(1, 3))) if kind != "question" else ()
        fields: dict = {"assignee": rng.choice((None, "an.devos", "Lien\tMaes " + "x" * 90))}
        if rng.random() < 0.2:
            fields |= {"needs_review": True, "review_reason": rng.choice(("low confidence", ""))}
        if i % 5 == 0:  # an unchanged created_at: some new since the last digest, some not
            fields["created"] = cf.LAST_DIGEST + timedelta(hours=rng.randint(-30, 20))
        case = factory.case(mailbox, received, rights, kind=kind, name=rng.choice(NAMES),
                            address=f"persoon{i}@example.be", extended=rng.random() < 0.15,
                            **fields)
        state = rng.random()
        if state < 0.3:
            case.status, case.closed_at = "closed", received + timedelta(days=20)
            case.outcome = rng.choice(("answered", "refused", "withdrawn", "forwarded"))
            case.answered_on = (received + timedelta(days=20)).astimezone(BRUSSELS).date()
            case.on_time = rng.choice((True, False, None))
        elif state < 0.45 and kind != "question":
            on = received.astimezone(BRUSSELS).date() + timedelta(days=rng.randint(0, 10))
            case.status, case.clock_suspended_on = "awaiting_identity", on
            case.suspended_days_left = rng.randint(5, 31)
        elif state < 0.5:
            case.status = "awaiting_identity"  # waiting, its clock not (yet) suspended
        if kind == "request" and rng.random() < 0.15:  # reclassified from a question
            case.target_date = received.astimezone(BRUSSELS).date() + timedelta(days=30)
    session.flush()
    add_listed_mail(session)


@pytest.fixture(scope="module")
def cases(module_db):
    """The cases, written once per database: the tests here only read them (their sessions
    commit nothing)."""
    db = module_db
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)
        _vary(session)
    return db, refs


@pytest.mark.parametrize("filters", [
    {}, {"mailbox": "wse"}, {"mailbox": "old"},
    {"date_from": date(2026, 3, 1), "date_to": date(2026, 4, 30)},
    {"date_from": date(2026, 5, 2), "mailbox": "ago"},
])
def test_register_rows_as_the_orm_gave_them(cases, filters):
    db, _refs = cases
    settings = cf.settings()
    with db.sessions() as session:
        expected = list(ormoracle.register_rows(session, settings, **filters))
        found = list(register_rows(session, settings, **filters))
    assert len(expected) > 5
    assert found == expected


def test_register_csv_of_the_console_is_the_export(cases):
    db, _refs = cases
    settings = cf.settings()
    with db.sessions() as session:
        export = io.StringIO()
        count = write_register(ormoracle.register_rows(session, settings), export, "csv")
        chunks = list(csv_chunks(register_csv_lines(session, settings, register_filter()), 40))
        jsonl_old, jsonl_new = io.StringIO(), io.StringIO()
        write_register(ormoracle.register_rows(session, settings), jsonl_old, "jsonl")
        write_register(register_rows(session, settings), jsonl_new, "jsonl")
    assert count > 200
    assert len(chunks) > 5 and "".join(chunks) == export.getvalue()
    assert jsonl_new.getvalue() == jsonl_old.getvalue()
    # Several mailboxes at once: the union of each, in the same order.
    with db.sessions() as session:
        both = list(register_rows(session, settings, mailboxes=["ago", "wse"]))
        every = list(ormoracle.register_rows(session, settings))
    assert both == [row for row in every if row["mailbox"] in ("ago", "wse")]


@pytest.mark.parametrize("scope", ["ago", "wse", "all"])
def test_digest_as_the_orm_gave_it(cases, scope):
    db, _refs = cases
    settings = cf.settings()
    for now in (cf.NOW, cf.NOW + timedelta(days=9)):
        with db.sessions() as session:
            expected = ormoracle.collect_digest(session, settings, scope, now)
            found = collect_digest(session, settings, scope, now)
        assert found == expected
        if now == cf.NOW:
            assert found.section("new").total > 3
            assert found.section("listed").total >= (scope != "wse")
    assert found.open_cases > 20
    if scope != "wse":
        assert found.section("overdue").total > MAX_LINES  # shown: the first MAX_LINES
        assert {line.kind for line in found.section("to_classify").lines} == {"to_classify"}
        assert found.section("identity").total and found.section("extension").total
