"""Extension (Art. 12(3) GDPR): once, with reasons, within the first month; the notice it queues."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest
from sqlalchemy import select

from intake.cases.operations import ExtensionRefused, extend_case
from intake.cli import main
from intake.outbound import open_transport
from intake.outbound.notices import EXTENSION_NOTICE, IDENTITY_CONFIRMATION, build_notice
from intake.outbound.outbox import flush_outbox
from intake.store.models import Case, CaseRight, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import AGO_BOX, MARIE, Inbox, case, outbox, parse_reply, write_settings

# Saturday 31 January 2026: first month ends Mon 2 March (28 Feb is a Saturday, 1 March a
# Sunday); extended: 30 April 2026 (Thursday).
RECEIVED = datetime(2026, 1, 31, 12, 0, tzinfo=BRUSSELS)
REF = "DPO-AGO-2026-0001"
REASONS = "Uw verzoek betreft gegevens in drie archieven die we één voor één moeten doorzoeken."


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BRUSSELS)


@pytest.fixture
def opened(db, pipeline):
    """A French complaint (needs no proof of identity, so the clock runs) at AgO (nl + fr)."""
    raw = mailgen.request("complaint", "fr", to=AGO_BOX.address, sender=MARIE, seed=41)
    outcome = Inbox(db.sessions, pipeline).deliver(AGO_BOX, raw, RECEIVED)
    assert outcome.case_reference == REF
    with db.sessions() as s:
        c = case(s, REF)
        assert (c.status, c.due_date, c.language) == ("open", date(2026, 3, 2), "fr")
    return db


def test_extension_within_the_first_month_queues_the_notice(opened):
    with opened.sessions() as s, s.begin():
        due, _item = extend_case(s, case(s, REF), AGO_BOX, REASONS, "els", at(date(2026, 2, 10)))
    assert due == date(2026, 4, 30)
    with opened.sessions() as s:
        c = case(s, REF)
        assert c.extended and c.due_date == date(2026, 4, 30)
        [notice] = outbox(s, "extension_notice")
        first = s.scalars(select(Message).where(Message.case_id == c.id)).one()
        assert (notice.reply_to_pk, notice.recipient, notice.status) == (
            first.id, MARIE[1], "pending")
        types = s.scalars(select(Event.type).where(Event.case_id == c.id)).all()
        assert types[-3:] == ["extended", "due_date_changed", "extension_notice_queued"]
        actor = s.scalars(select(Event.actor).where(Event.type == "extended")).one()
        assert actor == "els"
    mail = parse_reply(notice)
    subject = " ".join(mail["Subject"].split())  # the stdlib folds with a trailing space
    assert subject.startswith(f"[{REF}] Verlenging van de termijn / Prolongation du délai: ")
    assert mail["In-Reply-To"] == first.message_id and mail["References"] == first.message_id
    assert mail["Auto-Submitted"] == "auto-generated" and mail["X-Loop"] == AGO_BOX.address
    assert mail["Content-Language"] == "nl, fr"
    body = mail.get_content()
    dutch, french = body.split("-" * 72)
    # Each language states the reasons and the new due date in its own words.
    assert "verlengen we de termijn met twee maanden" in dutch
    assert "uiterlijk op 30 april 2026" in dutch
    assert "drie archieven" in " ".join(dutch.split())
    assert "Nous prolongeons donc" in " ".join(french.split())
    assert "au plus tard le 30 avril 2026" in " ".join(french.split())
    assert "drie archieven" in " ".join(french.split())
    assert "31 janvier 2026" in french and "31 januari 2026" in dutch


@pytest.mark.parametrize(("on", "reason", "legal"), [
    (date(2026, 3, 3), REASONS, "uiterlijk op 2026-03-02"),  # the day after the first month
    (date(2026, 2, 10), "   ", "moet gemotiveerd worden"),  # no reason
])
def test_late_or_reasonless_extension_is_refused_and_queues_nothing(opened, on, reason, legal):
    with opened.sessions() as s, s.begin(), pytest.raises(ExtensionRefused, match=legal):
        extend_case(s, case(s, REF), AGO_BOX, reason, "els", at(on))
    with opened.sessions() as s:
        c = case(s, REF)
        assert not c.extended and c.due_date == date(2026, 3, 2)
        assert outbox(s, "extension_notice") == []
        # The refusal is part of the audit trail, with its legal reason.
        refused = s.scalars(select(Event).where(Event.type == "extension_refused")).one()
        assert legal in refused.reason and refused.actor == "els"


def test_second_extension_is_refused(opened):
    with opened.sessions() as s, s.begin():
        extend_case(s, case(s, REF), AGO_BOX, REASONS, "els", at(date(2026, 2, 10)))
    second = at(date(2026, 2, 11))
    with opened.sessions() as s, s.begin(), pytest.raises(ExtensionRefused, match="al verlengd"):
        extend_case(s, case(s, REF), AGO_BOX, "nog meer werk", "els", second)
    with opened.sessions() as s:
        assert len(outbox(s, "extension_notice")) == 1
        assert case(s, REF).due_date == date(2026, 4, 30)


def test_extension_while_waiting_for_identity_promises_the_date_later(db, pipeline):
    raw = mailgen.request("access", "nl", to=AGO_BOX.address, seed=42,
                          sender=("Jan Peeters", "jan.peeters@example.be"))
    Inbox(db.sessions, pipeline).deliver(AGO_BOX, raw, RECEIVED)
    with db.sessions() as s, s.begin():
        c = case(s, REF)
        assert c.status == "awaiting_identity"
        due, item = extend_case(s, c, AGO_BOX, REASONS, "els", at(date(2026, 2, 20)))
    assert due is None
    body = parse_reply(item).get_content()
    assert "tot we het bewijs van uw identiteit ontvangen" in " ".join(body.split())
    assert "uiterlijk op" not in body


def test_cli_extend_refused_late_with_the_legal_reason(opened, tmp_path, capsys):
    # Received 31 January 2026; today is long after 2 March 2026.
    config = str(write_settings(tmp_path, opened.url))
    code = main(["cases", "extend", REF, "--reason", REASONS, "--as", "els", "--config", config])
    err = capsys.readouterr().err
    assert code == 1 and "art. 12, lid 3 AVG" in err and "2026-03-02" in err
    with opened.sessions() as s:
        assert outbox(s, "extension_notice") == []
        refused = s.scalars(select(Event).where(Event.type == "extension_refused")).one()
        assert refused.actor == "els"


def test_notice_is_delivered_by_the_sender_job(opened, smtp_server):
    with opened.sessions() as s, s.begin():
        _due, item = extend_case(s, case(s, REF), AGO_BOX, REASONS, "els", at(date(2026, 2, 10)))
    with opened.sessions() as s:  # the acknowledgement was never sent: deliver it too
        pending = {i.purpose for i in s.scalars(select(OutboxItem)
                                                .where(OutboxItem.status == "pending"))}
    assert pending == {"acknowledgement", "extension_notice"}
    stats = flush_outbox(opened.sessions, lambda: open_transport(smtp_server.settings()), 3)
    assert stats.sent == 2
    delivered = {m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode(): m
                 for m in smtp_server.wait_for(2)}
    notice = delivered[item.message_id]
    assert list(notice.rcpt_tos) == [MARIE[1]] and notice.mail_from == AGO_BOX.address
    with opened.sessions() as s:
        assert s.get(OutboxItem, item.id).status == "sent"
        sent = s.scalars(select(Event).where(Event.type == "extension_notice_sent")).one()
        assert sent.case_id == case(s, REF).id


@pytest.mark.parametrize(("language", "due_words", "proof_words"), [
    ("nl", "uiterlijk op 30 april 2026", "Op 20 februari 2026 ontvingen we"),
    ("fr", "au plus tard le 30 avril 2026", "Le 20 février 2026, nous avons reçu"),
    ("en", "by 30 April 2026 at the latest", "On 20 February 2026 we received"),
    ("de", "spätestens am 30. April 2026", "am 20. Februar 2026 haben wir"),
])
def test_both_notices_in_every_language(language, due_words, proof_words):
    mailbox = dataclasses.replace(AGO_BOX, reply_languages=(language,))
    requester = Case(reference=REF, kind="request", language=language, received_at=RECEIVED,
                     requester_address=MARIE[1], requester_name=MARIE[0],
                     rights=[CaseRight(right="access")])
    now = at(date(2026, 2, 20))
    extension = build_notice(EXTENSION_NOTICE, requester, mailbox, None,
                             {"reasons": REASONS, "due_date": date(2026, 4, 30)}, now)
    confirmation = build_notice(IDENTITY_CONFIRMATION, requester, mailbox, None,
                                {"proof_date": date(2026, 2, 20), "due_date": date(2026, 4, 30)},
                                now)
    text = " ".join(extension.message.get_content().split())
    assert due_words in text and REASONS in text and REF in text
    assert "12" in text and "31" in text  # the article and the day of receipt
    text = " ".join(confirmation.message.get_content().split())
    assert proof_words in text and due_words in text
    assert extension.message["In-Reply-To"] is None  # nothing to answer: no thread headers
