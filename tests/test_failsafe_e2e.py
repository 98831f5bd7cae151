"""Fail-safe end to end (Dovecot IMAP → worker → database → SMTP → digest): a request the
classifier misses still gets a case, a clock and a neutral acknowledgement; an invoice, a
calendar invitation and a phishing mail get no case and no reply but are listed for staff."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from intake.daemon import Worker
from intake.digest import collect_digest, render_digest
from intake.store.models import Case, Event, Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO, mailbox, make_settings

# Thursday 5 March 2026: due 7 April 2026 (Easter Sunday and Monday skipped).
RECEIVED = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)
AGO_ADDRESS = "dpo.ago@vlaanderen.be"
PERSON = ("Jan Peeters", "jan.peeters@example.be")
def phishing() -> bytes:
    """A spoofed 'IT service' mail that failed DMARC under p=reject, with a link lure."""
    msg = EmailMessage()
    msg["From"] = "IT Servicedesk <servicedesk@vlaanderen-it.example.net>"
    msg["To"] = AGO_ADDRESS
    msg["Subject"] = "Uw mailbox is bijna vol"
    msg["Message-ID"] = "<phish-1@vlaanderen-it.example.net>"
    msg["Date"] = "Thu, 05 Mar 2026 09:00:00 +0100"
    msg["Authentication-Results"] = (
        "mx.vlaanderen.be; spf=fail smtp.mailfrom=vlaanderen-it.example.net; "
        "dkim=none; dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=vlaanderen-it.example.net"
    )
    msg.set_content("Beste gebruiker,\n\nUw mailbox is bijna vol. Klik hier om uw account te "
                    "bevestigen met uw wachtwoord: https://login.vlaanderen-it.example.net/x\n\n"
                    "Servicedesk\n")
    return msg.as_bytes()


def test_missed_request_gets_a_case_and_noise_is_listed(imap, smtp_server, db, blind_pipeline):
    request = mailgen.request("erasure", "nl", to=AGO_ADDRESS, sender=PERSON, seed=31)
    mails = {
        "request": request,
        "invoice": mailgen.invoice(to=AGO_ADDRESS, seed=32),
        "calendar": mailgen.meeting_invitation(to=AGO_ADDRESS, seed=33),
        "phishing": phishing(),
    }
    for raw in mails.values():
        imap.append(raw, msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    report = Worker(settings, pipeline=blind_pipeline).run_once()
    assert report.errors == {}

    with db.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert case.requester_address == PERSON[1]
        assert (case.kind, case.status, case.right_names) == ("to_classify", "open", ())
        assert case.due_date == date(2026, 4, 7)  # the legal clock, provisionally from receipt
        assert case.needs_review and case.review_reason.startswith("to classify")
        events = [e.type for e in s.scalars(select(Event).where(Event.case_id == case.id))]
        assert events[:3] == ["opened", "clock_started", "acknowledgement_queued"]
        listed = {m.subject: m for m in s.scalars(select(Message).where(
            Message.case_id.is_(None)))}
        assert sorted(m.disposition for m in listed.values()) == ["list_only"] * 3
        reasons = sorted(str(m.triage["explanation"]) for m in listed.values())
        assert any("no case: invoice" in r for r in reasons)
        assert any("no case: calendar" in r for r in reasons)
        assert any("no case: phishing" in r for r in reasons)
        reference = case.reference

    # Exactly one reply: the neutral acknowledgement, to the requester, stating the due date.
    [ack] = smtp_server.wait_for(1)
    assert list(ack.rcpt_tos) == [PERSON[1]]
    parsed = email.message_from_bytes(ack.data, policy=email.policy.default)
    body = " ".join(parsed.get_content().split())  # one line: the template wraps at 78
    assert reference in parsed["Subject"]
    assert "ontvangen op 5 maart 2026" in body
    assert "Oefent u daarmee een recht uit" in body
    assert "dan antwoorden we u uiterlijk op 7 april 2026" in body
    assert "Vlaamse Toezichtcommissie" in body  # the complaint route
    assert "verzoek over" not in body  # it does not claim to know which right

    # The digest opens with the case to classify and lists the other three with their reason.
    now = datetime.now(UTC) + timedelta(minutes=1)
    with db.sessions() as s:
        digest = collect_digest(s, settings, "ago", now)
    assert digest.sections[0].key == "to_classify"
    assert [line.reference for line in digest.sections[0].lines] == [reference]
    listed_section = digest.section("listed")
    assert listed_section.total == 3
    _subject, text, html = render_digest(digest, "nl")
    first = text.index("== ")
    assert text[first:].startswith("== Te classificeren")
    assert text.index(reference) < text.index("== Zonder zaak")
    tail = text[text.index("== Zonder zaak"):]
    for subject, why in (("Factuur 2026/", "invoice"), ("Uitnodiging: overleg", "calendar"),
                         ("Uw mailbox is bijna vol", "phishing")):
        assert subject in tail and why in tail, (subject, why)
    assert "Klik hier" not in text and "Klik hier" not in html  # no bodies


def test_dmarc_failed_sender_under_reject_gets_a_case_but_no_reply(
        imap, smtp_server, db, blind_pipeline):
    raw = mailgen.request("erasure", "nl", to=AGO_ADDRESS, sender=PERSON, seed=41)
    raw = (b"Authentication-Results: mx.vlaanderen.be; dmarc=fail (p=QUARANTINE) "
           b"header.from=example.be\r\n" + raw)
    imap.append(raw, msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    Worker(settings, pipeline=blind_pipeline).run_once()
    with db.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert case.kind == "to_classify" and case.due_date == date(2026, 4, 7)
        assert case.review_reason.startswith("sender not verified")
        types = [e.type for e in s.scalars(select(Event).where(Event.case_id == case.id))]
        assert "acknowledgement_withheld" in types and "acknowledgement_queued" not in types
    assert smtp_server.received == []
