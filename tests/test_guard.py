"""Tests for the guard stage: every signal positive and negative, precedence, mailgen verdicts."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest

from intake.guard import GuardVerdict, check_guard, relays_a_person
from intake.message import ParsedMessage, parse_message
from tests import mailgen

OWN = ("dpo.ago@vlaanderen.be", "dpo.wse@vlaanderen.be")
PERSON = "Jan Peeters <jan.peeters@example.be>"
REQUEST_TEXT = (
    "Beste,\n\nGraag had ik inzage gekregen in de persoonsgegevens die jullie over mij "
    "bijhouden.\n\nMet vriendelijke groeten,\nJan Peeters"
)


def mail(
    headers: dict[str, str] | None = None,
    *,
    subject: str = "Inzage in mijn gegevens",
    sender: str | None = PERSON,
    body: str = REQUEST_TEXT,
) -> ParsedMessage:
    """A plain message from a person, with extra headers."""
    msg = EmailMessage(policy=policy.SMTP)
    if sender is not None:
        msg["From"] = sender
    msg["To"] = "dpo.ago@vlaanderen.be"
    msg["Subject"] = subject
    msg["Message-ID"] = "<test.1@example.be>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return parse_message(msg.as_bytes())


def verdict(msg: ParsedMessage) -> GuardVerdict:
    return check_guard(msg, OWN)


def test_a_person_writing_may_be_answered() -> None:
    result = verdict(mail({"Return-Path": "<jan.peeters@example.be>"}))
    assert result.kind is None
    assert result.reasons == ()
    assert result.may_reply


# --- auto-replies --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("Auto-Submitted", "auto-notified; owner-email=x@example.org"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Auto-Response-Suppress", "OOF"),
        ("X-Auto-Response-Suppress", "DR, OOF, AutoReply"),
        ("Precedence", "auto_reply"),
    ],
)
def test_auto_reply_headers(name: str, value: str) -> None:
    result = verdict(mail({name: value}))
    assert result.kind == "auto_reply"
    assert not result.may_reply
    assert any(reason.lower().startswith(name.lower()) for reason in result.reasons)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Auto-Submitted", "no"),
        ("Auto-Submitted", "No"),
        ("X-Autoreply", "no"),
        ("X-Auto-Response-Suppress", "DR, RN, NRN"),
        ("Precedence", "first-class"),
    ],
)
def test_headers_that_do_not_make_a_message_automatic(name: str, value: str) -> None:
    result = verdict(mail({name: value}))
    assert result.kind is None
    assert result.may_reply


@pytest.mark.parametrize(
    ("subject", "lang"),
    [
        ("Afwezig", "nl"),
        ("Afwezig: Uw vraag", "nl"),
        ("Automatisch antwoord: Ontvangstbevestiging", "nl"),
        ("Out of Office: your message", "en"),
        ("Out of office until 20 March", "en"),
        ("Automatic reply: Acknowledgement", "en"),
        ("RE: Automatic reply: Acknowledgement", "en"),
        ("[EXTERNAL] Out of office", "en"),
        ("Absence : Accusé de réception", "fr"),
        ("Réponse automatique : Accusé de réception", "fr"),
        ("Abwesenheitsnotiz: Eingangsbestätigung", "de"),
        ("Automatische Antwort: Eingangsbestätigung", "de"),
    ],
)
def test_out_of_office_subjects(subject: str, lang: str) -> None:
    result = verdict(mail(subject=subject, body="Tot dan."))
    assert result.kind == "auto_reply"
    assert f"subject looks like out-of-office ({lang})" in result.reasons


@pytest.mark.parametrize(
    "subject",
    [
        "Absence de réponse à ma demande d'accès",
        "Afwezigheid van antwoord op mijn inzageverzoek",
        "Automatische verwerking van mijn gegevens",
        "Geautomatiseerde beslissing",
        "Vakantiejob: verwijdering van mijn gegevens",
        "FW: Undeliverable: mijn vorige mail",
        "Reply about my data",
    ],
)
def test_ordinary_subjects_are_not_robots(subject: str) -> None:
    result = verdict(mail(subject=subject))
    assert result.kind is None, result.reasons


@pytest.mark.parametrize(
    ("first_line", "lang"),
    [
        ("Dit is een automatisch antwoord.", "nl"),
        ("Ik ben afwezig tot en met 20 maart.", "nl"),
        ("Ik ben momenteel niet op kantoor en lees mijn mail niet.", "nl"),
        ("Ceci est une réponse automatique.", "fr"),
        ("Je suis absente du bureau jusqu'au 3 avril.", "fr"),
        ("This is an automatic reply.", "en"),
        ("I am out of the office until Monday.", "en"),
        ("Dies ist eine automatische Antwort.", "de"),
        ("Ich bin bis einschließlich 10.04.2026 nicht im Büro.", "de"),
    ],
)
def test_out_of_office_first_lines(first_line: str, lang: str) -> None:
    result = verdict(mail(subject="Re: Uw bericht", body=f"{first_line}\n\nMet groeten,\nAn"))
    assert result.kind == "auto_reply"
    assert f"first line looks like out-of-office ({lang})" in result.reasons


@pytest.mark.parametrize(
    "body",
    [
        "Vorige keer kreeg ik enkel een automatisch antwoord van jullie.\n\n" + REQUEST_TEXT,
        "Beste,\n\nIk wil niet onderworpen worden aan een besluit dat Automatisch genomen werd.",
        "Beste,\n\nIk ben afwezig geweest wegens ziekte en vraag nu inzage in mijn dossier.",
        REQUEST_TEXT + "\n\nDit is een automatisch antwoord dat ik van jullie kreeg, "
        "ik ben afwezig tot maandag.",
    ],
)
def test_automatic_words_inside_a_persons_text_are_not_an_auto_reply(body: str) -> None:
    result = verdict(mail(body=body))
    assert result.kind is None, result.reasons
    assert result.may_reply


def test_read_receipt_is_automatic_but_not_a_bounce() -> None:
    raw = (
        b"From: Jan Peeters <jan.peeters@example.be>\r\nTo: dpo.ago@vlaanderen.be\r\n"
        b"Subject: Gelezen: Ontvangstbevestiging\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=disposition-notification;"
        b' boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nUw bericht werd gelezen.\r\n"
        b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; jan.peeters@example.be\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n"
    )
    result = verdict(parse_message(raw))
    assert result.kind == "auto_reply"
    assert result.reasons == (
        "read receipt (multipart/report; report-type=disposition-notification)",
    )


# --- bounces -------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["postfix", "exchange"])
def test_delivery_status_report_is_a_bounce(style: str) -> None:
    result = verdict(parse_message(mailgen.bounce(style=style, seed=1)))
    assert result.kind == "bounce"
    assert "Content-Type: multipart/report; report-type=delivery-status" in result.reasons
    assert "has a message/delivery-status part" in result.reasons
    assert "null Return-Path <>" in result.reasons
    assert not result.may_reply


def test_delivery_status_part_without_report_type_is_a_bounce() -> None:
    raw = mailgen.bounce(seed=2).replace(b"multipart/report", b"multipart/mixed")
    raw = raw.replace(b"MAILER-DAEMON", b"mailer").replace(b"Return-Path: <>", b"X-Seen: 1")
    raw = raw.replace(b"Undelivered Mail Returned to Sender", b"Bericht")
    result = verdict(parse_message(raw))
    assert result.kind == "bounce"
    assert result.reasons[0] == "has a message/delivery-status part"


def test_a_forwarded_bounce_file_is_still_a_person() -> None:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = PERSON
    msg["To"] = "dpo.ago@vlaanderen.be"
    msg["Subject"] = "FW: Undelivered Mail Returned to Sender"
    msg.set_content("Mijn verzoek tot inzage kwam terug, zie bijlage.")
    msg.add_attachment(mailgen.bounce(seed=4), maintype="application",
                       subtype="octet-stream", filename="bounce.eml")
    result = verdict(parse_message(msg.as_bytes()))
    assert result.kind is None, result.reasons


def test_forwarded_bounce_as_message_rfc822_is_still_a_person() -> None:
    from email import message_from_bytes

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = PERSON
    msg["To"] = "dpo.ago@vlaanderen.be"
    msg["Subject"] = "FW: mijn mail kwam terug"
    msg.set_content("Zie de doorgestuurde melding.")
    msg.add_attachment(message_from_bytes(mailgen.bounce(seed=5), policy=policy.SMTP))
    result = verdict(parse_message(msg.as_bytes()))
    assert result.kind is None, result.reasons


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("MAILER-DAEMON@mx.example.org", "From is MAILER-DAEMON"),
        ("Mail Delivery Subsystem <mailer-daemon@example.org>", "From is MAILER-DAEMON"),
        ("postmaster@example.be", "From is POSTMASTER"),
        ("Mail Delivery System <relay@example.org>", "From name is 'Mail Delivery System'"),
    ],
)
def test_bounce_senders(sender: str, reason: str) -> None:
    result = verdict(mail(sender=sender, subject="Bericht", body="Zie hieronder."))
    assert result.kind == "bounce"
    assert reason in result.reasons


@pytest.mark.parametrize(
    "subject",
    [
        "Undeliverable: Ontvangstbevestiging",
        "Onbestelbaar: Ontvangstbevestiging",
        "Delivery Status Notification (Failure)",
        "Undelivered Mail Returned to Sender",
        "Non remis : Accusé de réception",
        "Unzustellbar: Eingangsbestätigung",
    ],
)
def test_bounce_subjects(subject: str) -> None:
    result = verdict(mail(subject=subject, body="Zie hieronder."))
    assert result.kind == "bounce"
    assert "subject looks like a delivery failure" in result.reasons


def test_null_return_path_alone_is_a_bounce() -> None:
    result = verdict(mail({"Return-Path": "<>"}))
    assert result.kind == "bounce"
    assert result.reasons == ("null Return-Path <>",)


def test_null_return_path_on_an_auto_reply_stays_an_auto_reply() -> None:
    result = verdict(mail({"Return-Path": "<>", "Auto-Submitted": "auto-replied"}))
    assert result.kind == "auto_reply"
    assert result.reasons == ("Auto-Submitted: auto-replied", "null Return-Path <>")


# --- lists and bulk ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("Precedence", "bulk", "Precedence: bulk"),
        ("Precedence", "list", "Precedence: list"),
        ("Precedence", "Junk", "Precedence: junk"),
        ("List-Id", "Nieuws <nieuws.example.org>", "has List-ID"),
        ("List-Unsubscribe", "<mailto:uit@example.org>", "has List-Unsubscribe"),
        ("List-Post", "<mailto:lijst@example.org>", "has List-Post"),
    ],
)
def test_bulk_and_list_headers(name: str, value: str, reason: str) -> None:
    result = verdict(mail({name: value}))
    assert result.kind == "bulk"
    assert result.reasons == (reason,)
    assert not result.may_reply


# --- loops ---------------------------------------------------------------------------------

def test_mail_from_our_own_address_is_a_loop_case_insensitively() -> None:
    result = verdict(mail(sender="DPO AgO <DPO.AGO@Vlaanderen.be>"))
    assert result.kind == "loop"
    assert result.reasons == ("From is our own address dpo.ago@vlaanderen.be",)


def test_own_address_list_is_matched_case_insensitively() -> None:
    result = check_guard(mail(sender="dpo.wse@vlaanderen.be"), ["DPO.WSE@VLAANDEREN.BE"])
    assert result.kind == "loop"


@pytest.mark.parametrize("header", ["X-Loop", "X-DPO-Intake"])
def test_loop_headers_naming_us(header: str) -> None:
    result = verdict(mail({header: "dpo.wse@vlaanderen.be"}))
    assert result.kind == "loop"
    assert not result.may_reply


@pytest.mark.parametrize("header", ["X-Loop", "X-DPO-Intake"])
def test_loop_headers_naming_someone_else_are_ignored(header: str) -> None:
    result = verdict(mail({header: "helpdesk@example.org"}))
    assert result.kind is None


def test_without_own_addresses_nothing_is_a_loop() -> None:
    assert check_guard(mail(sender="dpo.ago@vlaanderen.be"), ()).kind is None


# --- senders -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        (None, "no sender address"),
        ("Jan Peeters", "sender address is not usable"),
        ("jan@localhost", "sender address is not usable"),
        ("no-reply@example.org", "sender is a no-reply address"),
        ("Formulier <noreply@example.be>", "sender is a no-reply address"),
        ("donotreply@example.org", "sender is a no-reply address"),
    ],
)
def test_no_usable_sender_means_no_reply(sender: str | None, reason: str) -> None:
    result = verdict(mail(sender=sender))
    assert result.kind is None
    assert reason in result.reasons
    assert not result.may_reply


def test_may_reply_is_false_whenever_a_kind_is_set() -> None:
    assert GuardVerdict(kind=None, reasons=()).may_reply
    assert not GuardVerdict(kind=None, reasons=("x",), sender_usable=False).may_reply
    for kind in ("auto_reply", "bounce", "bulk", "loop"):
        assert not GuardVerdict(kind=kind, reasons=("x",)).may_reply


# --- precedence ----------------------------------------------------------------------------

def test_precedence_bounce_over_auto_reply_over_bulk_over_loop_with_all_reasons() -> None:
    headers = {"Auto-Submitted": "auto-replied", "List-Id": "<l.example.org>",
               "X-Loop": "dpo.ago@vlaanderen.be"}
    everything = mail(headers, sender="MAILER-DAEMON@example.org")
    result = verdict(everything)
    assert result.kind == "bounce"
    assert result.reasons == ("From is MAILER-DAEMON", "Auto-Submitted: auto-replied",
                              "has List-ID", "X-Loop names us")

    headers.pop("Auto-Submitted")
    assert verdict(mail(headers)).kind == "bulk"
    headers.pop("List-Id")
    assert verdict(mail(headers)).kind == "loop"
    assert verdict(mail({"Auto-Submitted": "auto-replied", "Precedence": "bulk"})).kind \
        == "auto_reply"


# --- mailgen output ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", mailgen.LANGUAGES)
@pytest.mark.parametrize("right", mailgen.RIGHTS)
def test_generated_requests_come_from_a_person(right: str, lang: str) -> None:
    for seed in range(3):
        result = verdict(parse_message(mailgen.request(right, lang, seed=seed, html=seed == 1)))
        assert result.kind is None, (right, lang, seed, result.reasons)
        assert result.may_reply


@pytest.mark.parametrize("lang", mailgen.LANGUAGES)
def test_generated_questions_and_followups_come_from_a_person(lang: str) -> None:
    for seed in range(3):
        assert verdict(parse_message(mailgen.question(lang, seed=seed))).may_reply
        raw = mailgen.followup("DPO-AGO-2026-0001", "<a@example.be>", lang, seed=seed)
        assert verdict(parse_message(raw)).may_reply


@pytest.mark.parametrize("lang", mailgen.LANGUAGES)
@pytest.mark.parametrize("kind", mailgen.AUTO_REPLY_KINDS)
def test_generated_auto_replies(kind: str, lang: str) -> None:
    result = verdict(parse_message(mailgen.auto_reply(lang, kind, seed=7)))
    assert result.kind == "auto_reply", result.reasons


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: mailgen.bounce(seed=1), "bounce"),
        (lambda: mailgen.bounce(style="exchange", seed=1), "bounce"),
        (lambda: mailgen.newsletter(seed=1), "bulk"),
        (lambda: mailgen.invoice(seed=1), None),
        (lambda: mailgen.meeting_invitation(seed=1), None),
        (lambda: mailgen.spam(seed=1), None),
        (lambda: mailgen.request("access", sender=("DPO", "dpo.ago@vlaanderen.be"), seed=1),
         "loop"),
    ],
)
def test_generated_kinds(make, kind: str | None) -> None:
    assert verdict(parse_message(make())).kind == kind


@pytest.mark.parametrize("variant", mailgen.BROKEN_VARIANTS)
def test_broken_mime_does_not_trip_the_guard(variant: str) -> None:
    result = verdict(parse_message(mailgen.broken_mime(variant, seed=1)))
    assert result.kind is None
    assert result.may_reply


# --- a machine passing on what a person wrote (contact forms) ---------------------------------

FORM = "Webformulier <noreply-formulier@vlaanderen.be>"
FORM_TEXT = ("Naam: Jan Peeters\nE-mail: jan.peeters@example.be\nBericht: graag had ik inzage "
             "gekregen in de persoonsgegevens die jullie over mij bijhouden.")


def test_a_contact_form_relays_a_person() -> None:
    relayed = mail({"Auto-Submitted": "auto-generated"}, sender=FORM, body=FORM_TEXT)
    assert verdict(relayed).kind == "auto_reply" and not verdict(relayed).may_reply
    assert relays_a_person(relayed, verdict(relayed))


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},  # an out-of-office quoting our acknowledgement
    {"Auto-Submitted": "auto-generated", "In-Reply-To": "<ack.1@vlaanderen.be>"},
    {"X-Autoreply": "yes"},
])
def test_answers_by_machines_are_never_taken_for_a_relayed_person(headers) -> None:
    msg = mail(headers, sender=FORM, body=FORM_TEXT)
    assert verdict(msg).kind == "auto_reply"
    assert not relays_a_person(msg, verdict(msg))


def test_a_relayed_request_gets_a_flagged_case_and_no_acknowledgement() -> None:
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(default_settings())
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"] = FORM, "dpo.ago@vlaanderen.be"
    msg["Subject"], msg["Auto-Submitted"] = "Nieuw bericht via contactformulier", "auto-generated"
    msg.set_content(FORM_TEXT)
    result = pipeline.triage(parse_message(msg.as_bytes()))
    assert result.disposition == "open_request" and result.rights == ("access",)
    assert result.needs_review and not result.would_acknowledge
    out_of_office = mail({"Auto-Submitted": "auto-replied"}, sender=FORM, body=FORM_TEXT)
    assert pipeline.triage(out_of_office).disposition == "robot"


class _Probabilities:
    """A model that says the same for every message (the disposition logic is under test)."""

    def __init__(self, probabilities: dict[str, float]) -> None:
        self._probabilities = probabilities

    def probabilities(self, subject: str, text: str, language: str) -> dict[str, float]:
        return self._probabilities


VOICEMAIL = ("U hebt een nieuw voicemailbericht.\nVan: +32 471 00 00 00\nDuur: 0:42\n\n"
             "Transcriptie: \"ja goeiendag, ik krijg elke maand die nieuwsbrief van jullie, "
             "ik wil die eigenlijk niet meer krijgen, dank u, dag\"")


def test_relayed_words_with_some_evidence_of_a_right_get_a_case_to_classify() -> None:
    """A voicemail system relays a person's words; no right reaches its threshold, but a rule
    of a right matched (or the model gives a right >= 0.2): the clock runs, no reply."""
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(default_settings())
    low = dict.fromkeys(("access", "rectification", "erasure", "restriction", "objection",
                         "portability", "withdraw_consent", "complaint", "automated_decision"),
                        0.05)
    voicemail = mail({"Auto-Submitted": "auto-generated"}, sender=FORM, body=VOICEMAIL,
                     subject="Voicemail van +32 471 00 00 00 (0:42)")
    pipeline.classifier.model = _Probabilities({**low, "withdraw_consent": 0.1})
    result = pipeline.triage(voicemail)
    assert result.rights == () and any(h.right == "withdraw_consent"
                                       for h in result.classification.hits)
    assert result.disposition == "to_classify" and result.needs_review
    assert not result.would_acknowledge
    assert any("relays what a person said" in line for line in result.explanation)
    # No rule matched, but the model gives a right 0.3: still a case to classify.
    said = mail({"Auto-Submitted": "auto-generated"}, sender=FORM, subject="Voicemail",
                body="Transcriptie: \"hallo, bel mij eens terug over die brief, dag\"")
    pipeline.classifier.model = _Probabilities({**low, "access": 0.3})
    assert pipeline.triage(said).disposition == "to_classify"
    # A system notice without any evidence of a right stays a robot: no case.
    pipeline.classifier.model = _Probabilities(low)
    assert pipeline.triage(said).disposition == "robot"


# --- a mailing list or issue tracker passing on what a person posted --------------------------

TRACKER = "Ann De Wolf via Issues <notifications@issues.example.be>"
TRACKER_HEADERS = {"List-Id": "portal-feedback <portal-feedback.issues.example.be>",
                   "List-Unsubscribe": "<https://issues.example.be/unsubscribe>",
                   "Precedence": "list"}
TRACKER_TEXT = ("Please remove my name and my mobile number from the dataset 'Jobcoaches "
                "Oost-Vlaanderen', I never agreed to have them published.\n\n--\nReply to this "
                "email directly or view it on the tracker.\nYou are receiving this because you "
                "are watching this repository.")


@pytest.mark.parametrize("headers,post", [
    (TRACKER_HEADERS, True),
    ({"List-Id": "dpo-network <dpo-network.lists.example.be>"}, True),  # a discussion list
    ({**TRACKER_HEADERS, "Precedence": "bulk"}, False),  # a newsletter says it is bulk
    ({"List-Id": "nieuwsbrief <news.example.be>", "Precedence": "junk"}, False),
    ({"List-Unsubscribe": "<https://news.example.be/u>"}, False),  # no list names itself
    ({**TRACKER_HEADERS, "Auto-Submitted": "auto-replied"}, False),  # an auto-reply first
])
def test_a_list_or_tracker_post_relays_a_person_and_a_newsletter_does_not(headers, post) -> None:
    msg = mail(headers, sender=TRACKER, body=TRACKER_TEXT)
    seen = verdict(msg)
    assert not seen.may_reply  # a list is never answered
    assert seen.list_post is post
    assert relays_a_person(msg, seen) is post


def test_a_request_posted_on_a_tracker_gets_a_flagged_case_and_no_acknowledgement() -> None:
    """An issue opened on a tracker the DPO mailbox follows reaches it as a list notification;
    the person's words are a request: a case on the clock, flagged, never answered (the sender
    is the list). The same words in a newsletter (Precedence: bulk) stay a robot's."""
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(default_settings())
    posted = mail(TRACKER_HEADERS, sender=TRACKER, body=TRACKER_TEXT,
                  subject="[portal-feedback] Remove my name and mobile from the dataset (#412)")
    result = pipeline.triage(posted)
    assert result.disposition in ("open_request", "to_classify"), result.explanation
    assert "erasure" in result.rights or result.disposition == "to_classify"
    assert result.needs_review and not result.would_acknowledge
    assert any("mailing list or issue tracker" in line for line in result.explanation)
    newsletter = mail({**TRACKER_HEADERS, "Precedence": "bulk"}, sender=TRACKER,
                      body=TRACKER_TEXT, subject="Nieuwsbrief open data, maart")
    assert pipeline.triage(newsletter).disposition == "robot"
    # A post without any evidence of a right (a bug report) stays with the robots.
    bug = mail(TRACKER_HEADERS, sender=TRACKER, subject="[portal] Map does not load (#413)",
               body="The map on the vacancies page stays grey in Firefox since yesterday's "
                    "release. Chrome is fine.")
    assert pipeline.triage(bug).disposition == "robot"
