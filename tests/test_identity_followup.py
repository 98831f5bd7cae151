"""Proof of identity in a follow-up: the clock runs on with the days left and the requester is
told the new due date; proof from someone else never touches the case."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from intake.store.models import Event, Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import (
    AGO_BOX,
    ID_CARD_JPEG,
    JAN,
    MARIE,
    Inbox,
    case,
    outbox,
    parse_reply,
    with_id_detector,
)

# Monday 14 September 2026: the period would end on 14 October. Proof is asked at once, so the
# clock stops that day with 30 days left. Proof arrives Friday 25 September: 25 September + 30
# days = Sunday 25 October, so the due date is Monday 26 October 2026.
RECEIVED = datetime(2026, 9, 14, 9, 30, tzinfo=BRUSSELS)
PROOF_AT = datetime(2026, 9, 25, 16, 45, tzinfo=BRUSSELS)
REF = "DPO-AGO-2026-0001"
ID_COPY = [("identiteitskaart.jpg", "image/jpeg", ID_CARD_JPEG)]


@pytest.fixture
def inbox(db, pipeline) -> Inbox:
    return Inbox(db.sessions, with_id_detector(pipeline))


@pytest.fixture
def waiting(db, inbox) -> str:
    """An access request from Jan without proof: the case waits with the clock stopped."""
    raw = mailgen.request("access", "nl", to=AGO_BOX.address, sender=JAN, seed=51)
    outcome = inbox.deliver(AGO_BOX, raw, RECEIVED)
    assert outcome.case_reference == REF and outcome.acknowledgement_queued
    with db.sessions() as s:
        c = case(s, REF)
        assert c.status == "awaiting_identity"
        assert (c.clock_suspended_on, c.suspended_days_left) == (date(2026, 9, 14), 30)
        assert c.identity_status == "none"
        [ack] = outbox(s, "acknowledgement")
        return ack.message_id


def test_followup_with_proof_resumes_the_clock_and_confirms(db, inbox, waiting):
    raw = mailgen.followup(REF, waiting, "nl", sender=JAN, seed=52, attachments=ID_COPY)
    outcome = inbox.deliver(AGO_BOX, raw, PROOF_AT)
    assert outcome.case_reference == REF and not outcome.opened_case
    with db.sessions() as s:
        c = case(s, REF)
        assert (c.status, c.clock_suspended_on, c.identity_status) == ("open", None, "id_copy")
        assert c.due_date == date(2026, 10, 26)
        followup = s.scalars(select(Message).where(Message.case_id == c.id)
                             .order_by(Message.id.desc())).first()
        proof = s.scalars(select(Event).where(Event.type == "identity_received")).one()
        assert proof.data == {"on": "2026-09-25", "status": "id_copy"}
        assert proof.actor == "intake"
        types = s.scalars(select(Event.type).where(Event.case_id == c.id)
                          .order_by(Event.id)).all()
        assert types[-5:] == ["message_attached", "identity_received", "clock_resumed",
                              "due_date_changed", "identity_confirmation_queued"]
        [confirmation] = outbox(s, "identity_confirmation")
        assert (confirmation.reply_to_pk, confirmation.recipient) == (followup.id, JAN[1])
    mail = parse_reply(confirmation)
    assert mail["In-Reply-To"] == followup.message_id
    assert mail["Auto-Submitted"] == "auto-replied"
    assert " ".join(mail["Subject"].split()).startswith(f"[{REF}] Identiteitsbewijs ontvangen")
    body = " ".join(mail.get_content().split())
    assert "Op 25 september 2026 ontvingen we het bewijs van uw identiteit" in body
    assert "uiterlijk op 26 oktober 2026" in body
    # French is configured but Jan wrote in Dutch: one section only.
    assert "Madame" not in body


def test_followup_without_proof_leaves_the_clock_stopped(db, inbox, waiting):
    raw = mailgen.followup(REF, waiting, "nl", sender=JAN, seed=53)
    assert inbox.deliver(AGO_BOX, raw, PROOF_AT).case_reference == REF
    with db.sessions() as s:
        c = case(s, REF)
        assert c.status == "awaiting_identity" and c.clock_suspended_on == date(2026, 9, 14)
        assert outbox(s, "identity_confirmation") == []


def test_proof_from_another_sender_is_not_joined(db, inbox, waiting):
    raw = mailgen.followup(REF, waiting, "fr", sender=MARIE, seed=54, attachments=ID_COPY)
    outcome = inbox.deliver(AGO_BOX, raw, PROOF_AT)
    assert outcome.opened_case and outcome.case_reference != REF
    with db.sessions() as s:
        c = case(s, REF)
        assert c.status == "awaiting_identity" and c.identity_status == "none"
        assert outbox(s, "identity_confirmation") == []
        other = case(s, outcome.case_reference)
        assert other.needs_review and "another requester" in other.review_reason


def test_second_proof_sends_no_second_confirmation(db, inbox, waiting):
    for seed, when in ((55, PROOF_AT), (56, datetime(2026, 9, 28, 9, tzinfo=BRUSSELS))):
        raw = mailgen.followup(REF, waiting, "nl", sender=JAN, seed=seed, attachments=ID_COPY)
        inbox.deliver(AGO_BOX, raw, when)
    with db.sessions() as s:
        assert case(s, REF).due_date == date(2026, 10, 26)
        assert len(outbox(s, "identity_confirmation")) == 1


def test_followup_failing_dmarc_is_not_joined_even_with_proof(db, inbox, waiting):
    # Jan's address in From, but the receiving server saw the domain fail DMARC: a forged mail.
    raw = mailgen.followup(REF, waiting, "nl", sender=JAN, seed=53, attachments=ID_COPY)
    raw = (b"Authentication-Results: mx.vlaanderen.be; spf=fail smtp.mailfrom=example.be;"
           b" dmarc=fail (p=none) header.from=example.be\r\n" + raw)
    outcome = inbox.deliver(AGO_BOX, raw, PROOF_AT)
    assert outcome.opened_case and outcome.case_reference != REF
    with db.sessions() as s:
        c = case(s, REF)
        assert (c.status, c.identity_status) == ("awaiting_identity", "none")  # untouched
        assert not outbox(s, "identity_confirmation")
        other = case(s, outcome.case_reference)
        assert other.needs_review and "failed DMARC" in (other.review_reason or "")


def test_case_review_reason_says_why_the_classifier_hesitates(db, inbox):
    # "inzage" in a question about an inzage: evidence of a right below its threshold.
    raw = mailgen.plain_note("Hoe lang duurt een inzage gewoonlijk bij jullie? Gewoon een vraag.",
                             "nl", sender=MARIE, seed=60)
    outcome = inbox.deliver(AGO_BOX, raw, RECEIVED)
    with db.sessions() as s:
        c = case(s, outcome.case_reference)
        assert c.needs_review
        assert c.review_reason and c.review_reason != "low confidence"
        triage = s.scalars(select(Message.triage).where(Message.case_id == c.id)).one()
        assert c.review_reason.split(":")[0] in " ".join(triage["explanation"])
