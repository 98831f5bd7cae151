"""The parsed message: what the triage reads from raw bytes, including from broken mail."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from intake.message import MessageParseError, content_hash, html_to_text, parse_message
from tests import mailgen


def build(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_addresses_ids_and_thread_headers():
    msg = build(From="=?utf-8?q?Jos=C3=A9_Peeters?= <Jose.Peeters@Example.BE>",
                To="DPO AgO <dpo.ago@vlaanderen.be>, other@example.org",
                Cc="c@example.org", Reply_To="elsewhere@example.org",
                Subject="=?utf-8?q?Vraag_over_mijn_dossier_=E2=80=93_inzage?=",
                Message_ID="<abc@example.be>", In_Reply_To="<ack.2@vlaanderen.be>",
                References="<first@example.be> <ack.1@vlaanderen.be> <ack.2@vlaanderen.be>",
                Authentication_Results="mx.vlaanderen.be; dmarc=fail header.from=example.be")
    msg.set_content("Goedendag,\nIk wil inzage.\n")
    parsed = parse_message(msg.as_bytes())
    assert (parsed.from_name, parsed.from_address) == ("José Peeters", "jose.peeters@example.be")
    assert parsed.to == ("dpo.ago@vlaanderen.be", "other@example.org")
    assert parsed.cc == ("c@example.org",) and parsed.reply_to == ("elsewhere@example.org",)
    assert parsed.subject == "Vraag over mijn dossier – inzage"
    assert parsed.message_id == "<abc@example.be>"
    assert parsed.thread_ids == ("<ack.2@vlaanderen.be>", "<ack.1@vlaanderen.be>",
                                 "<first@example.be>")
    assert parsed.authentication_results == ("mx.vlaanderen.be; dmarc=fail header.from=example.be",)
    assert parsed.text == "Goedendag,\nIk wil inzage."
    assert parsed.header("AUTHENTICATION-RESULTS").startswith("mx.")


def test_html_only_body_becomes_text():
    msg = build(From="a@example.be", Subject="x")
    msg.set_content("<html><head><style>p{color:red}</style></head><body><p class=MsoNormal>"
                    "Ik wens mijn gegevens te&nbsp;laten wissen.</p><p>Groeten,<br>An</p>"
                    "<script>alert(1)</script></body></html>", subtype="html")
    parsed = parse_message(msg.as_bytes())
    assert parsed.text == "Ik wens mijn gegevens te laten wissen.\nGroeten,\nAn"
    assert parsed.html is not None
    assert html_to_text("<div>a</div><div>b</div>") == "a\nb"


def test_attachments_keep_name_type_size_and_bytes():
    raw = mailgen.invoice(to="dpo.ago@vlaanderen.be", seed=3)
    parsed = parse_message(raw)
    [pdf] = [a for a in parsed.attachments if a.content_type == "application/pdf"]
    assert pdf.filename and pdf.filename.endswith(".pdf")
    assert pdf.payload.startswith(b"%PDF") and pdf.size == len(pdf.payload)


def test_content_hash_ignores_trace_headers_only():
    raw = mailgen.request("access", "nl", seed=5)
    relayed = (b"Received: from relay.example.be by mx.vlaanderen.be; Mon, 2 Mar 2026\r\n"
               b"Delivered-To: dpo.ago@vlaanderen.be\r\n" + raw)
    assert content_hash(relayed) == content_hash(raw) == parse_message(raw).content_hash
    assert content_hash(raw.replace(b"inzage", b"INZAGE")) != content_hash(raw)


@pytest.mark.parametrize("variant", ["missing_boundary", "undeclared_8bit", "bad_charset"])
def test_broken_mime_still_yields_the_text(variant):
    parsed = parse_message(mailgen.broken_mime(variant, seed=7))
    assert "inzage" in parsed.text.lower() or "gegevens" in parsed.text.lower()
    if variant == "missing_boundary":
        assert "NoBoundaryInMultipartDefect" in parsed.defects


def test_headers_cannot_smuggle_line_breaks():
    raw = (b"From: Eve <eve@example.org>\r\n"
           b"Subject: =?utf-8?q?hallo=0D=0ABcc:_victim@example.org?=\r\n\r\nbody\r\n")
    parsed = parse_message(raw)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x00\x00"])
def test_nothing_usable_is_a_parse_error(raw):
    with pytest.raises(MessageParseError):
        parse_message(raw)


def test_body_parser_hooks_still_exist_in_mail_parser():
    """_BodyParser overrides private methods of mail-parser (pinned in pyproject.toml) and hides
    the Received headers through the stdlib Message's header list; an upgrade that renames them
    would silently bring back the work they leave out."""
    from mailparser.core import MailParser

    from intake.message import _BodyParser

    assert callable(MailParser._build_header_index) and callable(MailParser._make_mail)
    hop = b"Received: from a.example.org by mx.example.be; Sat, 05 Dec 2026 10:11:12 +0100\r\n"
    raw = hop + hop + mailgen.request("access", "nl", seed=3)
    mail = _BodyParser.from_bytes(raw)
    assert mail.text_plain and mail.subject and mail.date is not None
    assert "from" not in mail._header_index and mail.mail == {} and mail.received == []
    assert len(mail.message.get_all("received")) == 2  # given back after the parse
    assert len(parse_message(raw).header_values("received")) == 2


def test_up_to_the_mime_part_bound_a_message_is_read_in_full():
    from intake.message import MAX_MIME_PARTS
    from tests import hostilegen

    msg = parse_message(hostilegen.many_parts(MAX_MIME_PARTS - 10))
    assert msg.limit is None and len(msg.attachments) == MAX_MIME_PARTS - 10
    over = parse_message(hostilegen.many_parts(MAX_MIME_PARTS + 10))
    assert over.limit and not over.attachments and over.text.startswith("Geachte,")


def test_dashed_lines_in_a_single_part_text_are_not_mime_parts():
    """A plain-text mail with many lines starting with "--" (rulers, a pasted table) is read in
    full: only a multipart message goes the bounded way."""
    from intake.message import MAX_MIME_PARTS

    rows = "\n".join(f"-- rij {n}: verwijder mijn gegevens" for n in range(MAX_MIME_PARTS + 20))
    raw = (f"From: An <an@example.be>\nTo: dpo.ago@vlaanderen.be\nSubject: verzoek\n"
           f"Content-Type: text/plain; charset=utf-8\n\nGeachte,\n{rows}\n").encode()
    msg = parse_message(raw)
    assert msg.limit is None and msg.text.startswith("Geachte,") and "rij 519" in msg.text
