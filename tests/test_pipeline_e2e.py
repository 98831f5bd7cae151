"""End to end on real parts: Dovecot IMAP → intake run --once → database → SMTP server."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime

from sqlalchemy import func, select

from intake.daemon import Worker
from intake.source.base import PROCESSED_KEYWORD, QUARANTINE_KEYWORD
from intake.store.models import Case, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO, WSE, mailbox, make_settings

# Thursday 5 March 2026 10:00 in Brussels: due 7 April 2026 (5 April is Easter Sunday, 6 April
# Easter Monday).
RECEIVED = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)
PERSON = ("Jan Peeters", "jan.peeters@example.be")


def batch() -> dict[str, tuple[str, bytes]]:
    """name -> (folder, raw): a message of every kind, for both controllers."""
    ago, wse = "dpo.ago@vlaanderen.be", "dpo.wse@vlaanderen.be"
    return {
        "access_nl": ("INBOX", mailgen.request("access", "nl", to=ago, sender=PERSON, seed=1)),
        "erasure_fr": (
            "INBOX",
            mailgen.request(
                "erasure", "fr", to=ago, seed=2, sender=("Marie Dubois", "marie.dubois@example.org")
            ),
        ),
        "multi_en": (
            "INBOX",
            mailgen.request(
                ("access", "erasure"),
                "en",
                to=ago,
                seed=3,
                sender=("Emma Smith", "emma.smith@example.org"),
            ),
        ),
        "question_nl": (
            "INBOX",
            mailgen.question(
                "nl", to=ago, seed=4, sender=("Els Janssens", "els.janssens@example.be")
            ),
        ),
        "auto_reply": ("INBOX", mailgen.auto_reply("nl", kind="exchange", to=ago, seed=5)),
        "bounce": ("INBOX", mailgen.bounce(seed=6)),
        "newsletter": ("INBOX", mailgen.newsletter(to=ago, seed=7)),
        "invoice": ("INBOX", mailgen.invoice(to=ago, seed=8)),
        "broken": ("INBOX", b"\x00\x00\x00"),
        "objection_wse": (
            "WSE",
            mailgen.request(
                "objection", "nl", to=wse, seed=9, sender=("Pieter Maes", "pieter.maes@example.be")
            ),
        ),
    }


def settings_for(imap, smtp_server, db):
    return make_settings(
        db.url,
        [mailbox(AGO, imap.imap_settings()), mailbox(WSE, imap.imap_settings(folder="WSE"))],
        smtp_server.settings(),
    )


def test_batch_of_every_kind(imap, smtp_server, db, pipeline):
    uids = {
        name: (folder, imap.append(raw, folder=folder, msg_time=RECEIVED))
        for name, (folder, raw) in batch().items()
    }
    worker = Worker(settings_for(imap, smtp_server, db), pipeline=pipeline)
    report = worker.run_once()

    assert report.errors == {}
    with db.sessions() as s:
        cases = {c.requester_address: c for c in s.scalars(select(Case))}
        assert set(cases) == {
            "jan.peeters@example.be",
            "marie.dubois@example.org",
            "emma.smith@example.org",
            "els.janssens@example.be",
            "pieter.maes@example.be",
            "",  # the broken message: quarantined, a case to classify with no requester
        }
        broken = cases[""]
        assert (broken.kind, broken.reference, broken.needs_review) == (
            "to_classify", "DPO-AGO-2026-0005", True)
        assert broken.review_reason.startswith("quarantined (MessageParseError")
        assert broken.due_date == date(2026, 4, 7)  # the clock runs from its receipt
        assert cases["jan.peeters@example.be"].right_names == ("access",)
        assert cases["marie.dubois@example.org"].right_names == ("erasure",)
        assert set(cases["emma.smith@example.org"].right_names) == {"access", "erasure"}
        assert cases["els.janssens@example.be"].kind == "question"
        assert cases["els.janssens@example.be"].due_date is None
        assert cases["pieter.maes@example.be"].right_names == ("objection",)
        assert cases["pieter.maes@example.be"].reference == "DPO-WSE-2026-0001"
        assert sorted(c.reference for c in cases.values() if c.mailbox_key == "ago") == [
            f"DPO-AGO-2026-{n:04d}" for n in range(1, 6)
        ]
        for c in cases.values():
            if c.kind == "request":
                assert c.due_date == date(2026, 4, 7), c.reference
        # Access and erasure need proof at AgO; objection does not at DWSE (its setting).
        assert cases["jan.peeters@example.be"].status == "awaiting_identity"
        assert cases["pieter.maes@example.be"].status == "open"
        statuses = dict(
            s.execute(select(Message.status, func.count()).group_by(Message.status)).all()
        )
        assert statuses == {"processed": 9, "quarantined": 1}
        assert (
            s.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "sent")
            )
            == 5
        )

    for name, (folder, uid) in uids.items():
        expected = QUARANTINE_KEYWORD if name == "broken" else PROCESSED_KEYWORD
        assert expected in imap.flags(folder, uid), name
        assert "\\Seen" not in imap.flags(folder, uid), name

    received = smtp_server.wait_for(5)
    assert sorted(r for m in received for r in m.rcpt_tos) == sorted(
        [
            "jan.peeters@example.be",
            "marie.dubois@example.org",
            "emma.smith@example.org",
            "els.janssens@example.be",
            "pieter.maes@example.be",
        ]
    )
    for m in received:
        ack = email.message_from_bytes(m.data, policy=email.policy.default)
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["In-Reply-To"]
        assert m.user == smtp_server.username

    # A second run finds nothing new and sends nothing.
    again = Worker(settings_for(imap, smtp_server, db), pipeline=pipeline).run_once()
    assert [p.seen for p in again.passes] == [0, 0]
    assert again.outbox.sent == 0
    assert len(smtp_server.received) == 5


def test_followup_joins_case_only_from_the_requester(imap, smtp_server, db, pipeline):
    ago = "dpo.ago@vlaanderen.be"
    imap.append(mailgen.request("access", "nl", to=ago, sender=PERSON, seed=11), msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    Worker(settings, pipeline=pipeline).run_once()
    with db.sessions() as s:
        first = s.scalars(select(Case)).one()
        ack_id = s.scalars(select(OutboxItem.message_id)).one()

    imap.append(
        mailgen.followup(first.reference, ack_id, "nl", to=ago, sender=PERSON, seed=12),
        msg_time=RECEIVED,
    )
    stranger = ("Mallory Mertens", "mallory@example.net")
    imap.append(
        mailgen.followup(first.reference, ack_id, "nl", to=ago, sender=stranger, seed=13),
        msg_time=RECEIVED,
    )
    Worker(settings, pipeline=pipeline).run_once()

    with db.sessions() as s:
        cases = s.scalars(select(Case).order_by(Case.id)).all()
        assert len(cases) == 2
        joined = s.scalars(select(Message).where(Message.case_id == first.id)).all()
        assert [m.from_address for m in joined] == [PERSON[1], PERSON[1]]
        own = cases[1]
        assert own.requester_address == "mallory@example.net"
        assert own.needs_review and "another requester" in own.review_reason
    # The requester's follow-up gets no second acknowledgement; the stranger gets one that names
    # only the new case.
    received = smtp_server.wait_for(2)
    assert len(received) == 2
    to_stranger = email.message_from_bytes(received[1].data, policy=email.policy.default)
    assert first.reference not in to_stranger.get_content()
    assert cases[1].reference in to_stranger["Subject"]


def test_replies_per_sender_are_limited(imap, smtp_server, db, pipeline):
    from dataclasses import replace

    from intake.store.models import Event

    ago = "dpo.ago@vlaanderen.be"
    for i, right in enumerate(("access", "erasure", "objection")):
        imap.append(
            mailgen.request(right, "nl", to=ago, sender=PERSON, seed=60 + i), msg_time=RECEIVED
        )
    smtp = replace(smtp_server.settings(), replies_per_sender_per_day=2)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp)
    Worker(settings, pipeline=pipeline).run_once()
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 3
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 2
        suppressed = s.scalars(
            select(Event).where(Event.type == "acknowledgement_suppressed")
        ).all()
        assert len(suppressed) == 1
        flagged = s.get(Case, suppressed[0].case_id)
        assert flagged.needs_review and "reply limit" in flagged.review_reason
    assert len(smtp_server.wait_for(2)) == 2


def test_reply_with_a_further_right_joins_the_case_for_review(imap, smtp_server, db, pipeline):
    ago = "dpo.ago@vlaanderen.be"
    imap.append(mailgen.request("access", "nl", to=ago, sender=PERSON, seed=71), msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    Worker(settings, pipeline=pipeline).run_once()
    with db.sessions() as s:
        ack_id = s.scalars(select(OutboxItem.message_id)).one()
    # The requester answers our acknowledgement (reply headers only, no reference in the subject)
    # and now also asks for erasure.
    imap.append(
        mailgen.request(
            "erasure",
            "nl",
            to=ago,
            sender=PERSON,
            seed=72,
            subject="Re: uw bericht",
            in_reply_to=ack_id,
        ),
        msg_time=RECEIVED,
    )
    Worker(settings, pipeline=pipeline).run_once()
    with db.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert case.right_names == ("access",)
        assert case.needs_review and "erasure" in case.review_reason
        assert len(s.scalars(select(Message).where(Message.case_id == case.id)).all()) == 2
    smtp_server.wait_for(1)
    assert len(smtp_server.received) == 1  # the reply itself gets no second acknowledgement
