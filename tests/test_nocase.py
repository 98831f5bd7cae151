"""No-case evidence (intake/nocase.py) and the triage's fail-safe disposition: pure, no database."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from intake.identity.dmarc import dmarc_policy
from intake.message import parse_message
from intake.nocase import no_case_evidence
from tests import mailgen

AGO = "dpo.ago@vlaanderen.be"


def mail(body: str, subject: str = "Vraag", sender: str = "Jan Peeters <jan@example.be>",
         **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = AGO
    msg["Subject"] = subject
    msg["Message-ID"] = "<t-1@example.be>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize("raw, kind, why", [
    (mailgen.invoice(to=AGO, seed=1), "invoice", "IBAN"),
    (mailgen.meeting_invitation(to=AGO, seed=2), "calendar", "text/calendar"),
    (mailgen.spam("nl", to=AGO, seed=3), "spam", "proficiat"),
    (mail("Uw wachtwoord verloopt. Klik hier: https://x.example.net/login",
          Authentication_Results="mx; dmarc=fail (p=reject) header.from=example.be"),
     "phishing", "DMARC failed"),
    (mail("Zie bijlage.", sender="Directie <directie@vlaanderen.be>",
          Reply_To="ceo@evil.example.net"), "phishing", "Reply-To"),
    (mail("Uw export is klaar.", sender="noreply@portal.example.be"), "automated", "no-reply"),
    (mail("Build 12 failed.", sender="jenkins@ci.example.be"), "automated", "system account"),
])
def test_positive_evidence(raw, kind, why):
    found = no_case_evidence(parse_message(raw), own_domains={"vlaanderen.be"},
                             dmarc_failed="dmarc=fail" in raw.decode("utf-8", "replace"))
    assert found is not None and found.kind == kind
    assert why in found.explanation


@pytest.mark.parametrize("raw", [
    mailgen.request("erasure", "nl", to=AGO, seed=5),
    mailgen.question("nl", to=AGO, seed=6),
    # A person writing about an invoice, without payment details, is a person.
    mail("Ik betwist de factuur van EUR 120,00 die ik kreeg. Wat doen jullie met mijn gegevens?"),
    # A forwarded invoice is the forwarder's message.
    mail("Doorgestuurd: factuur nr. 2026/12, te betalen EUR 99,00 op BE71 0961 2345 6769",
         subject="Fwd: Factuur 2026/12"),
    # DMARC failed but nothing lures: a person whose mail server is misconfigured.
    mail("Ik wil weten welke gegevens jullie over mij hebben.",
         Authentication_Results="mx; dmarc=fail (p=reject) header.from=example.be"),
    # One lure-like word is what a person may write too.
    mail("Verwijder mijn account op https://data.example.be aub.",
         Authentication_Results="mx; dmarc=fail (p=reject) header.from=example.be"),
    # A web form: no-reply sender, the person in Reply-To.
    mail("Bericht via het contactformulier: ik wil mijn dossier inkijken.",
         sender="noreply@forms.example.be", Reply_To="lien@example.be"),
    # A colleague whose own-domain mail passed DMARC, answering from home.
    mail("Mag ik mijn personeelsdossier zien?", sender="Tom <tom.claes@vlaanderen.be>",
         Reply_To="tom@example.be",
         Authentication_Results="mx; dmarc=pass header.from=vlaanderen.be"),
    # An ID copy attached to a DMARC-failed mail is no lure.
    mail("Hierbij mijn identiteitskaart, zie https://www.example.be voor mijn vereniging.",
         Authentication_Results="mx; dmarc=fail (p=quarantine) header.from=example.be"),
])
def test_no_evidence_for_a_persons_mail(raw):
    assert no_case_evidence(parse_message(raw), own_domains={"vlaanderen.be"},
                            dmarc_failed="dmarc=fail" in raw.decode("utf-8", "replace")) is None


@pytest.mark.parametrize("header, policy", [
    ("mx; dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=x.be", "reject"),
    ("mx; spf=pass; dmarc=fail policy.dmarc=quarantine header.from=x.be", "quarantine"),
    ("protection.outlook.com; dmarc=fail action=oreject header.from=x.be", "reject"),
    ("mx; dmarc=fail (p=none) header.from=x.be", "none"),
    ("mx; dmarc=fail header.from=x.be", None),
    ("mx; dmarc=pass (p=reject) header.from=x.be", None),
])
def test_dmarc_policy(header, policy):
    assert dmarc_policy(parse_message(mail("x", Authentication_Results=header))) == policy


def test_triage_to_classify_list_only_and_unverified(blind_pipeline):
    plain = blind_pipeline.triage_bytes(mailgen.request("erasure", "nl", to=AGO, seed=7))
    assert (plain.kind, plain.disposition, plain.would_acknowledge, plain.needs_review) == (
        "other", "to_classify", True, True)
    assert any(line.startswith("fail-safe:") for line in plain.explanation)
    assert plain.to_json()["disposition"] == "to_classify"

    invoice = blind_pipeline.triage_bytes(mailgen.invoice(to=AGO, seed=8))
    assert (invoice.disposition, invoice.would_acknowledge) == ("list_only", False)
    assert any(line.startswith("no case: invoice") for line in invoice.to_json()["explanation"])

    spoofed = mail("Verwijder mijn gegevens.",
                   Authentication_Results="mx; dmarc=fail (p=quarantine) header.from=example.be")
    unverified = blind_pipeline.triage_bytes(spoofed)
    assert unverified.disposition == "to_classify" and unverified.sender_unverified
    assert unverified.would_acknowledge is False
    assert any("sender not verified" in line for line in unverified.explanation)
