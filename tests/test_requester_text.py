"""What the classifier reads: quoted replies, signatures, disclaimers, forwards, letters."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest

from intake import requester_text as requester_text_module
from intake.mailtext.letters import DOCX_TYPE, MAX_CHARS, MAX_DOCX_UNPACKED, NO_TEXT_LAYER
from intake.message import Attachment, ParsedMessage, html_to_text, parse_message
from intake.requester_text import MAX_INPUT_CHARS, RequesterText, requester_text
from tests import mailgen

LANGS = mailgen.LANGUAGES
ACCESS = {lang: mailgen.PHRASES["access"][lang][0] for lang in LANGS}
ERASURE = {lang: mailgen.PHRASES["erasure"][lang][0] for lang in LANGS}
THANKS = {
    "nl": "Bedankt, dat is alles wat ik nodig had.",
    "fr": "Merci, c'est tout ce dont j'avais besoin.",
    "en": "Thanks, that is all I needed.",
    "de": "Danke, das ist alles, was ich brauchte.",
}
# Closing formula, name block, and the legal disclaimer a mail server appends.
SIGNED = {
    "nl": ("Met vriendelijke groeten,", "Jan Peeters\nBeleidsmedewerker\nTel. 02 000 00 00",
           "Dit bericht is vertrouwelijk en uitsluitend bestemd voor de geadresseerde. Aan dit "
           "bericht kunnen geen rechten worden ontleend."),
    "fr": ("Cordialement,", "Marie Dubois\nRue de l'Exemple 5\n1000 Bruxelles",
           "Ce message et toutes les pièces jointes sont confidentiels et établis à l'intention "
           "exclusive de ses destinataires."),
    "en": ("Kind regards,", "Emily Clarke\nPolicy Officer\nhttps://example.org",
           "This e-mail and any attachments are confidential and intended solely for the "
           "addressee. If you received it in error, please delete it."),
    "de": ("Mit freundlichen Grüßen", "Anna Schmidt\nReferentin\nTel. +49 000 000000",
           "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. "
           "Wenn Sie nicht der richtige Adressat sind, informieren Sie bitte den Absender."),
}
COVERING = {"nl": "Zie bijlage.", "fr": "Voir pièce jointe.", "en": "See attachment.",
            "de": "Siehe Anhang."}


def extract(raw: bytes, **kwargs) -> RequesterText:
    return requester_text(parse_message(raw), **kwargs)


def has_note(result: RequesterText, fragment: str) -> bool:
    return any(fragment in note for note in result.notes)


# --- quoted replies -----------------------------------------------------------------------

@pytest.mark.parametrize("style", mailgen.QUOTE_STYLES)
@pytest.mark.parametrize("lang", LANGS)
def test_quoted_reply_is_removed(lang: str, style: str) -> None:
    quoted = f"Geachte,\n\n{ACCESS[lang]}\n\nGroeten"
    result = extract(mailgen.reply(THANKS[lang], quoted, lang, style, seed=1))
    assert result.text == THANKS[lang]
    assert result.source == "body"
    assert has_note(result, "quoted reply removed (")


def test_quote_labels_name_the_pattern_not_the_person() -> None:
    labels = {
        style: extract(mailgen.reply(THANKS["nl"], "x", "nl", style, seed=2)).notes[0]
        for style in ("gmail", "outlook", "original")
    }
    assert labels == {
        "gmail": "quoted reply removed (Op … schreef)",
        "outlook": "quoted reply removed (Van: … Verzonden: …)",
        "original": "quoted reply removed (-----Oorspronkelijk bericht-----)",
    }


def test_the_library_header_patterns_never_match_blank_lines_alone() -> None:
    # replies._library_header skips a skeleton without any line that can start a header: the
    # library's patterns all need some character besides newlines.
    from intake.mailtext.replies import _LIBRARY_HEADERS

    assert all(_LIBRARY_HEADERS.search("\n" * lines) is None for lines in range(0, 300))


def test_quoted_lines_without_header_are_removed_inline_answers_kept() -> None:
    body = ("Hallo,\n\n> Welke gegevens wenst u in te zien?\nMijn personeelsdossier.\n"
            "> Sinds wanneer?\nSinds 2019.\n\nGroeten,\nAn")
    result = extract(mailgen.plain_note(body, in_reply_to="<ack.1@vlaanderen.be>", seed=3))
    assert "Welke gegevens" not in result.text and "Sinds wanneer" not in result.text
    assert "Mijn personeelsdossier." in result.text and "Sinds 2019." in result.text
    assert has_note(result, "quoted lines removed (>)")


def test_followup_generator_quote_is_removed() -> None:
    raw = mailgen.followup("DPO-AGO-2026-0042", "<ack.1@vlaanderen.be>", "nl", seed=4)
    result = extract(raw)
    assert "Wij hebben uw verzoek goed ontvangen" in parse_message(raw).text
    assert "Wij hebben uw verzoek goed ontvangen" not in result.text
    assert "hoe ver het staat" in result.text


def test_reply_with_nothing_above_the_quote_is_empty() -> None:
    result = extract(mailgen.reply("", f"Beste,\n\n{ACCESS['nl']}", "nl", "outlook", seed=5))
    assert result.text == "" and result.source == "empty"
    assert has_note(result, "no text of its own")


def test_letter_with_to_and_date_lines_is_not_taken_for_a_quote() -> None:
    body = ("Aan: Agentschap Overheidspersoneel\nDatum: 3 maart 2026\nOnderwerp: verzoek\n\n"
            f"Geachte,\n\n{ERASURE['nl']}\n\nJan Peeters")
    result = extract(mailgen.plain_note(body, seed=6))
    assert ERASURE["nl"] in result.text and "Aan: Agentschap" in result.text
    assert not has_note(result, "quoted")


def test_pasted_message_with_header_block_on_top_is_classified() -> None:
    body = ("Van: Jan Peeters <jan.peeters@example.be>\nVerzonden: maandag 2 maart 2026 09:14\n"
            f"Aan: info@vlaanderen.be\nOnderwerp: gegevens\n\n{ERASURE['nl']}")
    result = extract(mailgen.plain_note(body, seed=7))
    assert result.text == ERASURE["nl"] and result.source == "forwarded"
    assert has_note(result, "nothing above the quoted message")


@pytest.mark.parametrize("lang,intro,header", [
    ("nl", "Ik kreeg dit gisteren, kijk zelf:", "Van: Nieuwsbrief <nieuws@vlaanderen.be>\n"
     "Verzonden: maandag 2 maart 2026 09:14\nAan: jan.peeters@example.be\nOnderwerp: maart"),
    ("en", "I keep getting these and have no idea why:", "From: Events <events@vlaanderen.be>\n"
     "Sent: Monday, 2 March 2026 09:14\nTo: emily@example.org\nSubject: Last chance"),
    ("nl", "Ik had onderstaande vraag al gestuurd, nooit antwoord. Ik plak ze hieronder.",
     "From: Jan Peeters <jan.peeters@example.be>\nSent: Tuesday, December 9, 2025 8:41 PM\n"
     "To: info@vlaanderen.be\nSubject: gegevens"),
    ("fr", "Je vous renvoie ci-dessous ma demande restée sans réponse.",
     "De : Marie Dubois <marie@example.be>\nEnvoyé : mardi 9 décembre 2025 20:41\n"
     "À : info@vlaanderen.be\nObjet : données"),
])
def test_pasted_message_below_an_introduction_is_read_with_it(lang: str, intro: str,
                                                              header: str) -> None:
    """A mail shown below "here it is:" is part of what the writer says, and so is what they
    write under it; the header lines are not."""
    body = f"{mailgen.GREETINGS[lang][0]}\n\n{intro}\n\n{header}\n\nBeste lezer, ...\n\n" \
           f"{ERASURE[lang]}"
    result = extract(mailgen.plain_note(body, lang, seed=11))
    assert intro in result.text and ERASURE[lang] in result.text
    assert "Subject:" not in result.text and "Onderwerp:" not in result.text
    assert has_note(result, "pasted message below an introduction")


@pytest.mark.parametrize("style", ["gmail", "gmail_wrapped", "apple", "thunderbird"])
def test_bottom_posted_reply_is_read_below_the_quote(style: str) -> None:
    """Some answer under the mail they quote: the text below the ">" block is theirs."""
    from datetime import datetime

    header = mailgen.quote_header(style, "en", ("Newsletter WSE", "news@vlaanderen.be"),
                                  datetime(2026, 7, 10, 10, 0), "mehmet@example.org", "News")
    body = f"{header}\n> Werk.Nieuws – July 2026\n> Unsubscribe | Privacy\n\n{ERASURE['en']}"
    result = extract(mailgen.plain_note(body, "en", subject="Re: News", seed=13,
                                        in_reply_to="<n1@vlaanderen.be>"))
    assert result.text == ERASURE["en"]
    assert has_note(result, "text below the quoted message")
    # Top-posted as usual: the text above counts, the quote and anything under it do not.
    top = extract(mailgen.plain_note(f"{THANKS['en']}\n\n{body}", "en", subject="Re: News",
                                     seed=13, in_reply_to="<n1@vlaanderen.be>"))
    assert top.text == THANKS["en"]


def test_quoted_lines_the_writer_points_at_are_read() -> None:
    """A colleague passes on a comment as "> " lines under "zie hieronder": no reply, and the
    quoted lines are what is passed on."""
    body = f"Doorgestuurd door de webcare, zie hieronder.\n\n> Griet: {ERASURE['nl']}"
    result = extract(mailgen.plain_note(body, seed=17, subject="Reactie op Facebook"))
    assert ERASURE["nl"] in result.text and ">" not in result.text
    assert has_note(result, "quoted lines read")
    plain = extract(mailgen.plain_note(f"Ter info.\n\n> Griet: {ERASURE['nl']}", seed=17,
                                       subject="Reactie op Facebook"))
    assert ERASURE["nl"] not in plain.text and has_note(plain, "quoted lines removed")


def test_forward_of_a_forward_is_read_to_the_innermost_message() -> None:
    """Helpdesk -> colleague -> DPO: two forward markers (or "FW: FW:" with Outlook headers);
    the requester's own mail at the bottom is what counts."""
    marker = "---------- Doorgestuurd bericht ----------"
    body = (f"Is dit een AVG-verzoek?\nKristof\n\n{marker}\nVan: Helpdesk\n"
            "Verzonden: dinsdag 24 maart 2026 09:10\nAan: Kristof\nOnderwerp: FW: opleidingen\n\n"
            f"Kristof, kan jij dit bekijken?\n\n{marker}\nVan: Elke <elke@example.be>\n"
            "Verzonden: zondag 22 maart 2026 17:48\nAan: helpdesk@vlaanderen.be\n"
            f"Onderwerp: opleidingen\n\n{ERASURE['nl']}\nElke")
    result = extract(mailgen.plain_note(body, seed=18, subject="FW: FW: opleidingen"))
    assert ERASURE["nl"] in result.text
    outlook = body.replace(marker, "-----Original Message-----")
    twice = extract(mailgen.plain_note(outlook, seed=18, subject="FW: FW: opleidingen"))
    assert ERASURE["nl"] in twice.text
    once = extract(mailgen.plain_note(outlook, seed=18, subject="FW: opleidingen"))
    assert ERASURE["nl"] not in once.text  # one forward said: the older mail below is history


def test_a_reply_ending_in_a_colon_still_loses_its_quote() -> None:
    """In a reply the quoted mail is the earlier conversation, whatever the text above says."""
    result = extract(mailgen.reply("Zie hieronder:", f"Beste,\n\n{ACCESS['nl']}", "nl",
                                   "outlook", seed=12))
    assert result.text == "Zie hieronder:" and has_note(result, "quoted reply removed")


@pytest.mark.parametrize("lang,sentence", [
    ("nl", "Op 3 maart schreef ik u al het volgende:"),
    ("nl", "Op maandag schreef:"),
    ("en", "On 3 March I wrote:"),
    ("de", "Am Montag schrieb ich Ihnen:"),
])
def test_a_sentence_of_the_writer_is_not_an_attribution_line(lang: str, sentence: str) -> None:
    body = f"{sentence}\n{ACCESS[lang]}\n\nIk kreeg nog geen antwoord."
    result = extract(mailgen.plain_note(body, lang, seed=8))
    assert result.text == body and result.notes == ()


# --- tick-box forms -------------------------------------------------------------------------

FORM_OPTIONS = ("Recht op inzage", "Recht op verbetering", "Recht op gegevenswissing",
                "Recht van bezwaar", "Intrekking van toestemming")


@pytest.mark.parametrize("empty,ticked", [("[ ]", "[x]"), ("[]", "[X]"), ("☐", "☒"),
                                          ("( )", "(x)"), ("- [ ]", "- [x]"), ("□", "☑")])
def test_a_form_keeps_only_its_ticked_boxes(empty: str, ticked: str) -> None:
    """A form printing every right with one ticked exercises that one: the unticked options
    are left out of what the classifier reads, the rest of the form stays."""
    lines = [f"{ticked if option == 'Recht van bezwaar' else empty} {option}"
             for option in FORM_OPTIONS]
    body = "FORMULIER\nNaam: Jan Peeters\n" + "\n".join(lines) + \
        "\nToelichting: geen mailings meer.\n"
    result = extract(mailgen.plain_note(body, seed=13))
    assert f"{ticked} Recht van bezwaar" in result.text
    assert "inzage" not in result.text and "Intrekking" not in result.text
    assert "Naam: Jan Peeters" in result.text and "Toelichting: geen mailings" in result.text
    assert has_note(result, "form: 4 unticked box line(s) left out")


@pytest.mark.parametrize("body", [
    "[x] Recht op inzage\n[x] Recht op verbetering\n[x] Recht van bezwaar",  # all ticked
    "Ik wil [ ] niets.\n[ ] Recht op inzage\n[x] Recht van bezwaar",  # two box lines only
    "Ik wil inzage in mijn dossier (x) en verbetering.",  # no form at all
])
def test_text_that_is_no_form_with_unticked_options_stays_whole(body: str) -> None:
    result = extract(mailgen.plain_note(body, seed=14))
    assert result.text == body and not has_note(result, "form:")

# --- signatures and disclaimers ------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_signature_and_disclaimer_are_removed(lang: str) -> None:
    closing, name_block, disclaimer = SIGNED[lang]
    body = f"{mailgen.GREETINGS[lang][0]}\n\n{ACCESS[lang]}\n\n{closing}\n{name_block}\n\n" \
           f"{disclaimer}"
    result = extract(mailgen.plain_note(body, lang, seed=9))
    assert result.text == f"{mailgen.GREETINGS[lang][0]}\n\n{ACCESS[lang]}"
    assert has_note(result, "signature removed") and has_note(result, "disclaimer removed")


def test_text_around_the_signature_stays() -> None:
    body = ("Beste,\n\nIk vraag:\n- inzage in mijn dossier\n- verwijdering van mijn foto\n\n"
            "Thanks, and please also delete my account.\n\nMet vriendelijke groeten,\n\n"
            "Jan Peeters\nBeleidsmedewerker\n+32 470 00 00 00\n\n"
            "PS: ik wil ook dat u mijn adres aanpast.")
    result = extract(mailgen.plain_note(body, seed=10))
    for kept in ("- inzage in mijn dossier", "- verwijdering van mijn foto",
                 "please also delete my account", "PS: ik wil ook dat u mijn adres aanpast."):
        assert kept in result.text
    assert "Jan Peeters" not in result.text and "+32 470" not in result.text


def test_dash_dash_signature_is_removed() -> None:
    body = f"Hello,\n\n{ERASURE['en']}\n\n-- \nEmily Clarke\nhttps://example.org"
    result = extract(mailgen.plain_note(body, "en", seed=11))
    assert result.text == f"Hello,\n\n{ERASURE['en']}"


def test_disclaimer_opening_a_message_is_not_removed() -> None:
    body = "Dit bericht is vertrouwelijk: ik vraag inzage in mijn medisch dossier."
    assert extract(mailgen.plain_note(body, seed=12)).text == body


# --- HTML-only mail -------------------------------------------------------------------------

def test_outlook_html_only_reply_becomes_clean_text() -> None:
    raw = mailgen.outlook_html(
        f"Geachte heer, mevrouw,\n\n{ACCESS['nl']}\n\nMet vriendelijke groeten,\n\nJan Peeters",
        "nl", quoted="Beste,\n\nWij hebben uw vraag over uw verlof goed ontvangen.", seed=13)
    msg = parse_message(raw)
    assert "MsoNormal" not in msg.text and "font-face" not in msg.text and "<p" not in msg.text
    assert f"Geachte heer, mevrouw,\n\n{ACCESS['nl']}\n\n" in msg.text  # Outlook's blank lines
    result = requester_text(msg)
    assert result.text == f"Geachte heer, mevrouw,\n\n{ACCESS['nl']}"
    assert has_note(result, "quoted reply removed (Van: … Verzonden: …)")


def test_html_to_text_on_junk_returns_text_or_nothing() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<html>" * 5000) == ""
    assert html_to_text("<div>a</div><div><br></div><div>b &amp; c</div>") == "a\n\nb & c"


# --- forwards -------------------------------------------------------------------------------

@pytest.mark.parametrize("style", mailgen.FORWARD_STYLES)
@pytest.mark.parametrize("lang", LANGS)
def test_forward_is_classified_by_the_forwarded_content(lang: str, style: str) -> None:
    inner = f"{mailgen.GREETINGS[lang][0]}\n\n{ERASURE[lang]}\n\n{SIGNED[lang][0]}\nX Y"
    result = extract(mailgen.forward(inner, lang, style, note="Ter info.", seed=14))
    assert result.source == "forwarded"
    assert ERASURE[lang] in result.text
    assert "Ter info" not in result.text and "info@vlaanderen.be" not in result.text
    assert has_note(result, "classified the forwarded content")


def test_forwarders_note_is_kept_when_it_says_something() -> None:
    note = "Kan de DPO dit verzoek van een burger opvolgen? Het kwam binnen via ons infoadres."
    result = extract(mailgen.forward(ERASURE["nl"], "nl", "outlook", note=note, seed=15))
    assert ERASURE["nl"] in result.text and note in result.text
    assert has_note(result, "classified the forwarded content and the note above it")


def test_attached_forward_keeps_only_the_meaningful_note() -> None:
    result = extract(mailgen.forward(ACCESS["fr"], "fr", "attached", note="Pour info", seed=16))
    assert result.text == ACCESS["fr"]
    assert has_note(result, "attached message/rfc822")


def _desk_to_desk(inner_subject: str) -> bytes:
    """A colleague's mail with an attached message whose body holds the requester's mail below
    an Outlook "-----Original Message-----" block."""
    from email.message import EmailMessage
    from email.policy import SMTP

    inner = EmailMessage(policy=SMTP)
    inner["From"] = "Onthaal <onthaal@vlaanderen.be>"
    inner["To"] = "events@vlaanderen.be"
    inner["Subject"] = inner_subject
    inner.set_content("Kan jij dit aan de juiste dienst bezorgen? Wij zijn niet bevoegd.\n\n"
                      "-----Original Message-----\nFrom: Eva Smet <eva.smet@example.be>\n"
                      "Sent: Wednesday, March 18, 2026 19:44\nTo: events@vlaanderen.be\n"
                      f"Subject: deelnemerslijst\n\nGoedenavond,\n\n{ERASURE['nl']}\n\nEva Smet\n")
    outer = EmailMessage(policy=SMTP)
    outer["From"] = "Dirk Maes <dirk.maes@vlaanderen.be>"
    outer["To"] = "dpo.wse@vlaanderen.be"
    outer["Subject"] = "FW: FW: deelnemerslijst"
    outer.set_content("Hoi, deze kwam bij ons terecht. Zie bijlage.\n\nDirk\n")
    outer.add_attachment(inner)
    return outer.as_bytes()


def test_attached_message_that_forwards_the_request_is_read_through() -> None:
    """Passed from desk to desk: in an attached "FW:" the "-----Original Message-----" block is
    the forwarded request, not a quote to cut."""
    result = extract(_desk_to_desk("FW: deelnemerslijst"))
    assert ERASURE["nl"] in result.text
    assert has_note(result, "forwarded message (subject FW:, -----Original Message-----)")
    assert has_note(result, "attached message/rfc822")
    # An attached message that is a reply still loses its quoted thread.
    replied = extract(_desk_to_desk("RE: deelnemerslijst"))
    assert ERASURE["nl"] not in replied.text
    assert has_note(replied, "quoted reply removed")


# --- attached letters ------------------------------------------------------------------------

LETTER = ("Geachte heer, mevrouw,\n\nHierbij vraag ik de wissing van al mijn persoonsgegevens "
          "uit jullie bestanden, ook die van de opleiding in Liège.\n\nHoogachtend,\nJan Peeters")


@pytest.mark.parametrize("lang", LANGS)
def test_covering_note_with_pdf_letter_reads_the_text_layer(lang: str) -> None:
    pdf = ("brief.pdf", "application/pdf", mailgen.letter_pdf(LETTER))
    result = extract(mailgen.plain_note(COVERING[lang], lang, attachments=[pdf], seed=17))
    assert result.source == "attachment"
    assert "wissing van al mijn persoonsgegevens" in result.text and "Liège" in result.text
    assert COVERING[lang].rstrip(".") not in result.text  # a bare covering note says nothing
    assert "attachment brief.pdf: text layer read (1 page)" in result.notes


def test_empty_body_with_docx_letter() -> None:
    docx = ("verzoek.docx", DOCX_TYPE, mailgen.letter_docx(LETTER))
    result = extract(mailgen.plain_note("", attachments=[docx], seed=18))
    assert result.source == "attachment"
    assert "wissing van al mijn persoonsgegevens" in result.text
    assert "attachment verzoek.docx: text read" in result.notes


def test_long_body_that_mentions_an_attachment_is_classified_itself() -> None:
    raw = mailgen.invoice(seed=19)  # "In bijlage vindt u factuur …" and a PDF
    result = extract(raw)
    assert result.source == "body" and "factuur" in result.text
    assert not has_note(result, "attachment")


def test_pdf_pages_are_bounded() -> None:
    long_letter = "\n".join(f"Regel {n} van een lange brief over mijn dossier." for n in range(400))
    pdf = ("lang.pdf", "application/pdf", mailgen.letter_pdf(long_letter))
    result = extract(mailgen.plain_note("zie bijlage", attachments=[pdf], seed=20))
    assert "attachment lang.pdf: text layer read (5 of 8 pages)" in result.notes
    assert "Regel 249 " in result.text and "Regel 250 " not in result.text


def test_scanned_pdf_is_noted_and_offered_to_ocr() -> None:
    scan = ("scan.pdf", "application/pdf", mailgen.scanned_pdf("Ik vraag inzage."))
    raw = mailgen.plain_note("Voir pièce jointe.", "fr", attachments=[scan], seed=21)
    result = extract(raw)
    assert f"attachment scan.pdf: {NO_TEXT_LAYER}" in result.notes
    assert result.source == "body" and result.text == "Voir pièce jointe."
    # OCR is the identity stage's (intake/identity/ocr.py); a stand-in checks the seam here.
    seen: list[bytes] = []
    with_ocr = extract(raw, ocr=lambda data: seen.append(data) or "Ik vraag inzage.")
    assert seen and seen[0].startswith(b"%PDF")
    assert with_ocr.source == "attachment" and with_ocr.text == "Ik vraag inzage."


def _zip_bomb_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (MAX_DOCX_UNPACKED + 1))
    return buffer.getvalue()


@pytest.mark.parametrize("name,content_type,data", [
    ("kapot.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"),
    ("leeg.pdf", "application/pdf", b""),
    ("kapot.docx", DOCX_TYPE, b"PK\x03\x04 not really a zip"),
    ("geen-word.docx", DOCX_TYPE, mailgen.minimal_pdf("x")),
    ("bom.docx", DOCX_TYPE, _zip_bomb_docx()),
])
def test_malformed_letters_are_noted_never_raised(name: str, content_type: str,
                                                  data: bytes) -> None:
    result = extract(mailgen.plain_note("Siehe Anhang.", "de",
                                        attachments=[(name, content_type, data)], seed=22))
    assert result.source == "body" and result.text == "Siehe Anhang."
    # a zip bomb is stopped by the cap before any parser: "not examined: unpacks to more than"
    assert any(note.startswith((f"attachment {name}: unreadable (",
                                f"attachment {name}: not examined: ")) for note in result.notes)


# --- bounds and robustness -------------------------------------------------------------------

def test_huge_body_is_cut() -> None:
    body = (ACCESS["en"] + " ") * (MAX_INPUT_CHARS // len(ACCESS["en"]) + 50)
    result = extract(mailgen.plain_note(body, "en", seed=23))
    assert len(result.text) == MAX_CHARS and result.text.startswith(ACCESS["en"])
    assert has_note(result, "body cut at") and has_note(result, "text cut at")


def test_unreadable_attached_message_is_noted() -> None:
    msg = parse_message(mailgen.plain_note(ACCESS["nl"], seed=24))
    junk = Attachment("fw.eml", "message/rfc822", 3, b"   ")
    result = requester_text(dataclasses.replace(msg, attachments=(junk,)))
    assert result.text == ACCESS["nl"] and has_note(result, "attached message unreadable")


@pytest.mark.parametrize("variant", mailgen.BROKEN_VARIANTS)
def test_broken_mime_never_raises(variant: str) -> None:
    result = extract(mailgen.broken_mime(variant, seed=25))
    assert result.source in ("body", "empty")


def test_a_bug_falls_back_to_the_whole_body(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> tuple[str, None]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(requester_text_module, "cut_quote", broken)
    msg: ParsedMessage = parse_message(mailgen.plain_note(ACCESS["nl"], seed=26))
    result = requester_text(msg)
    assert result == RequesterText(msg.text, "body",
                                   ("extraction failed (RuntimeError); whole body used",))


# --- with the real classifier -----------------------------------------------------------------

def test_request_in_the_quoted_part_does_not_make_the_reply_a_request(pipeline) -> None:
    quoted = f"Geachte,\n\n{ACCESS['nl']}\n\nJan Peeters"
    msg = parse_message(mailgen.reply(THANKS["nl"], quoted, "nl", "gmail", seed=27,
                                      subject="Re: mijn vraag"))
    # The whole body (quote included) is a request; the reply's own text is not.
    assert "access" in pipeline.classifier.classify(msg.subject, msg.text).rights
    result = pipeline.triage(msg)
    assert result.rights == () and result.kind == "other"
    assert "text: quoted reply removed (Op … schreef)" in result.explanation


def test_forwarded_request_is_classified_as_that_request(pipeline) -> None:
    msg = parse_message(mailgen.forward(ERASURE["fr"], "fr", "outlook", note="Pour info.",
                                        seed=28))
    result = pipeline.triage(msg)
    assert result.rights == ("erasure",) and result.language == "fr"
    assert any(line.startswith("text: forwarded message (subject TR:")
               for line in result.explanation)


def test_letter_behind_zie_bijlage_is_classified(pipeline) -> None:
    pdf = ("brief.pdf", "application/pdf", mailgen.letter_pdf(LETTER))
    msg = parse_message(mailgen.plain_note("Zie bijlage.", attachments=[pdf], seed=29,
                                           subject="Brief"))
    assert pipeline.classifier.classify(msg.subject, msg.text).rights == ()
    result = pipeline.triage(msg)
    assert result.rights == ("erasure",) and result.kind == "request"
    assert "text: attachment brief.pdf: text layer read (1 page)" in result.explanation


def test_scanned_letter_is_read_with_tesseract_and_classified() -> None:
    # The real OCR (Tesseract, as the daemon wires it) on a scan whose body says only "zie bijlage".
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    letter = ("Geachte heer, mevrouw,\n\nGraag verwijder ik al mijn persoonsgegevens uit uw\n"
              "bestanden. Ik wil het recht op vergetelheid uitoefenen.\n\nMet vriendelijke groet,\n"
              "Testpersoon Voorbeeld")
    scan = ("brief.pdf", "application/pdf", mailgen.scanned_pdf(letter))
    raw = mailgen.plain_note("Zie bijlage.", "nl", attachments=[scan], seed=22)
    pipeline = TriagePipeline.from_settings(default_settings())
    assert pipeline.ocr is not None
    result = pipeline.triage_bytes(raw)
    assert "text: attachment brief.pdf: no text layer; OCR read" in result.explanation
    assert result.rights == ("erasure",)
