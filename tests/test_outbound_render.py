"""Acknowledgement rendering: wording per language and controller, headers, header injection."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import pytest

from intake.config import MailboxSettings, MaildirSettings
from intake.message import ParsedMessage, parse_message
from intake.outbound.render import (
    BRUSSELS,
    ReplyContext,
    build_acknowledgement,
    clean_header_text,
    format_long_date,
    render_acknowledgement,
    reply_languages,
)

REF = "DPO-AGO-2026-0042"
RECEIVED = datetime(2026, 3, 5, 9, 41, tzinfo=BRUSSELS)
DUE = date(2026, 4, 7)
NOW = datetime(2026, 3, 5, 9, 45, tzinfo=BRUSSELS)

CONTROLLERS = {
    "ago": ("Agentschap Overheidspersoneel", "dpo.ago@vlaanderen.be"),
    "wse": ("Departement Werk en Sociale Economie", "dpo.wse@vlaanderen.be"),
    "demo": ("Voorbeeldbestuur", "privacy@voorbeeld.example"),
}

# What each language must say: dates written out, the extension, the suspension.
EXPECTED = {
    "nl": {"received": "5 maart 2026", "due": "uiterlijk op 7 april 2026",
           "extension": "met twee maanden worden verlengd", "article": "art. 12, lid 3, AVG",
           "suspended": "opgeschort", "rights": "inzage en wissing",
           "vtc": "Vlaamse Toezichtcommissie", "service": "binnen 21 dagen",
           "subject": "Ontvangstbevestiging", "deadline": "uiterlijk op"},
    "fr": {"received": "5 mars 2026", "due": "au plus tard le 7 avril 2026",
           "extension": "prolongé de deux mois", "article": "art. 12, par. 3, RGPD",
           "suspended": "suspendu", "rights": "accès et effacement",
           "vtc": "Commission de contrôle flamande", "service": "délai de 21 jours",
           "subject": "Accusé de réception", "deadline": "au plus tard"},
    "en": {"received": "5 March 2026", "due": "by 7 April 2026 at the latest",
           "extension": "extended by two months", "article": "GDPR Art. 12(3)",
           "suspended": "suspended", "rights": "access and erasure",
           "vtc": "Flemish Supervisory Commission", "service": "within 21 days",
           "subject": "Acknowledgement of receipt", "deadline": "at the latest"},
    "de": {"received": "5. März 2026", "due": "spätestens am 7. April 2026",
           "extension": "um zwei Monate verlängert", "article": "Art. 12 Abs. 3 DSGVO",
           "suspended": "gehemmt", "rights": "Auskunft und Löschung",
           "vtc": "Flämischen Aufsichtskommission", "service": "innerhalb von 21 Tagen",
           "subject": "Eingangsbestätigung", "deadline": "spätestens"},
}

# The controller's own identity wording (Dutch), and phrases that belong to the others only.
IDENTITY_NL = {
    "ago": "gedateerd en ondertekend verzoek met een kopie van uw",
    "wse": "vragen we een bewijs van uw identiteit",
    "demo": "Bezorg ons daarom een bewijs van uw identiteit",
}


def mailbox(key: str = "ago", languages: tuple[str, ...] = ("nl",), **extra) -> MailboxSettings:
    controller, address = CONTROLLERS[key]
    return MailboxSettings(
        key=key, controller=controller, address=address,
        reference_prefix=f"DPO-{key.upper()}", reply_languages=languages,
        dpo_contact=f"functionaris.{key}@vlaanderen.example", question_service_days=21,
        maildir=MaildirSettings(path="/nonexistent"), **extra,
    )


def incoming(subject: str = "Inzage in mijn gegevens", name: str = "Jan Peeters",
             address: str = "jan.peeters@example.test") -> ParsedMessage:
    raw = (
        f"From: {name} <{address}>\r\n"
        "To: dpo.ago@vlaanderen.be\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <req-1@example.test>\r\n"
        "References: <root@example.test> <mid@example.test>\r\n"
        "Date: Thu, 05 Mar 2026 09:40:00 +0100\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Ik wil graag inzage in mijn gegevens en ze daarna laten wissen.\r\n"
    ).encode()
    return parse_message(raw)


def context(key: str = "ago", language: str = "nl", **changes) -> ReplyContext:
    languages = ("nl",) if language == "nl" else ("nl", language)
    values = {
        "kind": "request", "reference": REF, "received": RECEIVED, "due": DUE,
        "service_days": None, "rights": ("access", "erasure"), "identity_needed": False,
        "days_left_when_suspended": None, "language": language,
        "mailbox": mailbox(key, languages),
    }
    values.update(changes)
    return ReplyContext(**values)


def body(msg) -> str:
    """The text with line breaks folded to spaces: wording checks do not depend on wrapping."""
    return " ".join(msg.get_content().split())


@pytest.mark.parametrize(
    ("detected", "configured", "expected"),
    [
        ("fr", ("nl", "fr", "en", "de"), ["nl", "fr"]),
        ("nl", ("nl", "fr"), ["nl"]),
        ("fr", ("nl",), ["nl"]),
        ("es", ("nl", "fr"), ["nl"]),
        ("de", ("fr", "de"), ["fr", "de"]),
        ("en", (), ["nl"]),
    ],
)
def test_reply_languages(detected, configured, expected):
    assert reply_languages(detected, configured) == expected


@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
@pytest.mark.parametrize("key", ["ago", "wse"])
def test_request_wording_per_language_and_controller(language, key):
    text = body(render_acknowledgement(context(key, language), incoming(), now=NOW))
    for lang in dict.fromkeys(["nl", language]):
        words = EXPECTED[lang]
        for field in ("received", "due", "extension", "article", "rights", "vtc"):
            assert words[field] in text, (lang, field)
    assert text.count(REF) >= 2 if language != "nl" else REF in text
    assert "https://www.vlaamsetoezichtcommissie.be" in text
    assert f"functionaris.{key}@vlaanderen.example" in text
    assert CONTROLLERS[key][0] in text
    assert EXPECTED["nl"]["suspended"] not in text
    assert "identiteitskaart" not in text
    assert text.index("Geachte heer, mevrouw") < text.index(EXPECTED[language]["received"])


@pytest.mark.parametrize("language", ["fr", "en", "de"])
def test_requester_language_follows_dutch_with_a_notice(language):
    text = body(render_acknowledgement(context("ago", language), incoming(), now=NOW))
    first_dutch = text.index("Geachte heer, mevrouw")
    assert text.index(EXPECTED[language]["received"]) > first_dutch
    notice = {"fr": "La version française", "en": "The English version",
              "de": "Die deutsche Fassung"}[language]
    assert text.index(notice) < first_dutch


def test_requester_language_not_configured_gives_dutch_only():
    ctx = context("ago", "fr", mailbox=mailbox("ago", ("nl",)))
    text = body(render_acknowledgement(ctx, incoming(), now=NOW))
    assert "uiterlijk op 7 april 2026" in text
    assert "avril" not in text


@pytest.mark.parametrize("key", ["ago", "wse", "demo"])
def test_identity_paragraph_uses_the_controllers_wording(key):
    ctx = context(key, due=None, identity_needed=True, days_left_when_suspended=27)
    text = body(render_acknowledgement(ctx, incoming(), now=NOW))
    assert IDENTITY_NL[key] in text
    for other, phrase in IDENTITY_NL.items():
        if other != key:
            assert phrase not in text
    assert "opgeschort tot we dat bewijs ontvangen" in text
    assert "nog 27 dagen" in text
    assert "uiterlijk op" not in text
    assert "twee maanden" in text


@pytest.mark.parametrize("language", ["fr", "en", "de"])
def test_identity_paragraph_in_every_language(language):
    ctx = context("wse", language, due=None, identity_needed=True)
    text = render_acknowledgement(ctx, incoming(), now=NOW).get_content()
    section = " ".join(text.split("-" * 72)[1].split())
    assert EXPECTED[language]["suspended"] in section
    assert "eID" in section
    assert EXPECTED[language]["due"] not in section


def test_identity_without_days_left_says_the_month_runs_on():
    ctx = context("ago", due=None, identity_needed=True, days_left_when_suspended=None)
    text = body(render_acknowledgement(ctx, incoming(), now=NOW))
    assert "loopt de termijn van één maand verder" in text
    assert "nog None" not in text


@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
def test_question_promises_no_legal_deadline(language):
    ctx = context("wse", language, kind="question", due=None, rights=(), service_days=None)
    text = body(render_acknowledgement(ctx, incoming("Vraag over de nieuwsbrief"), now=NOW))
    words = EXPECTED[language]
    assert words["service"] in text
    assert words["received"] in text
    assert REF in text
    assert words["vtc"] in text
    for lang in dict.fromkeys(["nl", language]):
        assert EXPECTED[lang]["deadline"] not in text
        assert EXPECTED[lang]["extension"] not in text
        assert EXPECTED[lang]["article"] not in text
    assert "7 april" not in text


def test_question_uses_the_given_service_days():
    ctx = context("ago", kind="question", due=None, rights=(), service_days=10)
    assert "binnen 10 dagen" in body(render_acknowledgement(ctx, incoming(), now=NOW))


def test_dates_are_written_out_per_language():
    day = date(2027, 2, 1)
    assert format_long_date(day, "nl") == "1 februari 2027"
    assert format_long_date(day, "fr") == "1er février 2027"
    assert format_long_date(day, "en") == "1 February 2027"
    assert format_long_date(day, "de") == "1. Februar 2027"
    assert format_long_date(date(2026, 8, 31), "fr") == "31 août 2026"


def test_received_time_is_shown_in_brussels_time():
    ctx = context("ago", received=datetime(2026, 3, 5, 23, 30, tzinfo=UTC))
    text = body(render_acknowledgement(ctx, incoming(), now=NOW))
    assert "6 maart 2026 om 00:30" in text


def test_all_rights_have_words():
    rights = ("access", "rectification", "erasure", "restriction", "objection", "portability",
              "withdraw_consent", "complaint", "automated_decision")
    text = body(render_acknowledgement(context(rights=rights), incoming(), now=NOW))
    assert ("inzage, rectificatie, wissing, beperking, bezwaar, overdraagbaarheid, intrekking "
            "toestemming, klacht en geautomatiseerde besluitvorming") in text


def test_lines_stay_readable():
    ctx = context("ago", "de", rights=("access", "erasure", "withdraw_consent"))
    text = render_acknowledgement(ctx, incoming(), now=NOW).get_content()
    assert max(len(line) for line in text.splitlines()) <= 78


def test_headers():
    msg = render_acknowledgement(context("ago", "fr"), incoming(), now=NOW)
    parsed = message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert parsed["From"].addresses[0].addr_spec == "dpo.ago@vlaanderen.be"
    assert parsed["From"].addresses[0].display_name == "Agentschap Overheidspersoneel"
    assert parsed["To"].addresses[0].addr_spec == "jan.peeters@example.test"
    assert parsed["To"].addresses[0].display_name == "Jan Peeters"
    assert parsed["Subject"] == (
        f"[{REF}] Ontvangstbevestiging / Accusé de réception: Inzage in mijn gegevens"
    )
    assert parsed["In-Reply-To"] == "<req-1@example.test>"
    assert parsed["References"].split() == [
        "<root@example.test>", "<mid@example.test>", "<req-1@example.test>"
    ]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Message-ID"].endswith("@vlaanderen.be>")
    assert parsed["Message-ID"] != "<req-1@example.test>"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["Content-Language"] == "nl, fr"
    assert "Nous avons bien reçu" in parsed.get_content()
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert parsed["Precedence"] is None


def test_new_message_id_each_time():
    a = render_acknowledgement(context(), incoming(), now=NOW)
    b = render_acknowledgement(context(), incoming(), now=NOW)
    assert a["Message-ID"] != b["Message-ID"]


def test_without_message_id_there_is_no_in_reply_to():
    msg = render_acknowledgement(
        context(), dataclasses.replace(incoming(), message_id=None, references=()), now=NOW
    )
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None


def test_long_subject_is_truncated():
    msg = render_acknowledgement(context(), incoming("Verzoek " + "x" * 300), now=NOW)
    subject = str(msg["Subject"])
    original = subject.split(": ", 1)[1]
    assert len(original) <= 120
    assert original.endswith("…")


def test_empty_subject():
    msg = render_acknowledgement(
        context(), dataclasses.replace(incoming(), subject=""), now=NOW
    )
    assert str(msg["Subject"]) == f"[{REF}] Ontvangstbevestiging"


HOSTILE = [
    "Inzage\r\nBcc: victim@example.test",
    "Inzage\nBcc: victim@example.test",
    "Inzage\rBcc: victim@example.test",
    "=?utf-8?q?Inzage=0D=0ABcc:_victim@example.test?=",
    "=?utf-8?b?SW56YWdlDQpCY2M6IHZpY3RpbUBleGFtcGxlLnRlc3Q=?=",
    "x=?utf-8?q?a=0D=0A?=Bcc: victim@example.test",
    "=?utf-8?b?PT91dGYtOD9xP0E9MEQ9MEFCY2M6X3ZpY3RpbUBleGFtcGxlLnRlc3Q/PQ==?=",
    "Inzage\u2028Bcc: victim@example.test\u0085X-Evil: 1",
    "Inzage\x00\x0bBcc: victim@example.test",
]


def assert_single_reply_headers(msg) -> None:
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    names = {name.lower() for name in parsed}
    assert "bcc" not in names
    assert "x-evil" not in names
    assert {a.addr_spec for a in parsed["To"].addresses} == {"jan.peeters@example.test"}
    assert len(parsed.get_all("To")) == 1
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
    assert not any(value.count("\n") for value in parsed.values())


@pytest.mark.parametrize("subject", HOSTILE)
def test_hostile_subject_cannot_add_headers(subject):
    msg = render_acknowledgement(
        context(), dataclasses.replace(incoming(), subject=subject), now=NOW
    )
    assert_single_reply_headers(msg)
    assert str(msg["Subject"]).startswith(f"[{REF}] Ontvangstbevestiging: ")


@pytest.mark.parametrize("name", [*HOSTILE, 'Jan "Peeters" <other@example.test>, x@y.test'])
def test_hostile_sender_name_cannot_add_headers_or_recipients(name):
    msg = render_acknowledgement(
        context(), dataclasses.replace(incoming(), from_name=name), now=NOW
    )
    assert_single_reply_headers(msg)


@pytest.mark.parametrize(
    "raw_subject",
    ["=?utf-8?q?Inzage=0D=0ABcc:_victim@example.test?=",
     "=?utf-8?b?SW56YWdlDQpCY2M6IHZpY3RpbUBleGFtcGxlLnRlc3Q=?="],
)
def test_hostile_subject_through_the_parser(raw_subject):
    msg = render_acknowledgement(context(), incoming(raw_subject), now=NOW)
    assert_single_reply_headers(msg)


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "jan@example.test\r\nBcc: x@y.test", "<>", "a b@c.test"]
)
def test_unusable_sender_address_is_refused(address):
    with pytest.raises(ValueError):
        render_acknowledgement(
            context(), dataclasses.replace(incoming(), from_address=address), now=NOW
        )


def test_clean_header_text():
    assert clean_header_text("Inzage\r\n\tin  mijn\u2028gegevens") == "Inzage in mijn gegevens"
    assert clean_header_text("=?utf-8?q?Caf=C3=A9?=") == "Café"
    assert "=?" not in clean_header_text("=?x-unknown?q?abc?=")


def test_a_request_needs_a_due_date_unless_identity_is_pending():
    with pytest.raises(ValueError):
        context(due=None, identity_needed=False)
    with pytest.raises(ValueError):
        context(kind="complaint")
    with pytest.raises(ValueError):
        context(reference="DPO\r\nBcc: x")


@pytest.mark.parametrize("name", ["Jan Peeters", "", "J. Peeters", "Peeters, Jan", "Jöhn Péeters",
                                  "O'Brien", "a" * 90, "x  y", "=?utf-8?q?x?="])
@pytest.mark.parametrize("subject", ["Inzage", "", "Inzage " * 20, "Accès à mes données",
                                     "tab\there", "a" * 120])
def test_wire_bytes_are_what_the_email_package_writes(name, subject):
    """Plain headers are written directly; the result equals the header registry's output."""
    msg = incoming(subject=subject.replace("\t", " "), name=name.replace(",", ""))
    reply = build_acknowledgement(context(language="fr"), msg, now=NOW)
    assert reply.raw == reply.message.as_bytes()
    assert str(reply.message["Message-ID"]) == reply.message_id
