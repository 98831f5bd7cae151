"""National register and eID card numbers planted everywhere in a request are found nowhere we
keep, send or log them: the database file (or PostgreSQL rows), the sent mail, the log lines."""

from __future__ import annotations

import email
import email.policy
import io
import logging
import re
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import MetaData, select
from stdnum.be import eid, nn

from intake.daemon import Worker
from intake.logs import KeyValueFormatter, ThirdPartyFilter
from intake.store.masking import mask_bytes, mask_numbers
from intake.store.models import Case, Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.pipeline import AGO, mailbox, make_settings
from tests.idgen import card_number, national_number

RECEIVED = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)

# One number per place it is planted, so a leak says where it came from.
NUMBERS = {
    "subject": national_number(date(1985, 7, 30), 33),
    "body": national_number(date(1990, 1, 2), 123),
    "html": national_number(date(2001, 11, 12), 45),
    "pdf": national_number(date(1978, 4, 5), 998),
    "docx": national_number(date(1966, 12, 31), 7),
    "filename": national_number(date(2003, 2, 28), 610),
    "card_body": card_number(5915867610),
    "card_docx": card_number(5920012345),
}


def dotted(number: str) -> str:
    """85.07.30-033.28, as printed on the eID card."""
    return f"{number[0:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"


def planted_request() -> bytes:
    n = NUMBERS
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Jan Peeters <jan.peeters@example.be>"
    msg["To"] = AGO
    msg["Subject"] = f"Inzage persoonsgegevens rijksregisternummer {dotted(n['subject'])}"
    msg["Date"] = "Thu, 05 Mar 2026 10:00:00 +0100"
    msg["Message-ID"] = "<planted-numbers-1@example.be>"
    text = (
        "Geachte,\n\nOp grond van artikel 15 AVG vraag ik inzage in alle persoonsgegevens die u "
        f"over mij verwerkt.\nMijn rijksregisternummer is {n['body']} en mijn kaartnummer "
        f"{n['card_body'][:3]}-{n['card_body'][3:10]}-{n['card_body'][10:]}.\n\n"
        "Met vriendelijke groeten,\nJan Peeters\n"
    )
    msg.set_content(text)
    spaced = " ".join([n["html"][0:2], n["html"][2:4], n["html"][4:6], n["html"][6:9],
                       n["html"][9:]])
    msg.add_alternative(
        f"<html><body><p>Geachte,</p><p>Ik vraag inzage in mijn persoonsgegevens (artikel 15 "
        f"AVG). Rijksregisternummer: <b>{spaced}</b></p></body></html>",
        subtype="html",
    )
    pdf = mailgen.letter_pdf(
        "Aan de functionaris voor gegevensbescherming\n\nIk vraag inzage in mijn gegevens.\n"
        f"Rijksregisternummer {n['pdf'][:6]}-{n['pdf'][6:9]}-{n['pdf'][9:]}\nJan Peeters"
    )
    msg.add_attachment(pdf, maintype="application", subtype="pdf",
                       filename=f"brief_{n['filename']}.pdf")
    docx = mailgen.letter_docx(
        f"Verzoek tot inzage\nRijksregisternummer: {n['docx']}\nKaart: {n['card_docx']}"
    )
    msg.add_attachment(
        docx, maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="verzoek.docx",
    )
    return msg.as_bytes()


def leaks(haystack: bytes) -> list[str]:
    """The planted numbers found in these bytes, also with separators taken out."""
    flat = re.sub(rb"[ .\-/]", b"", haystack)
    return [where for where, number in NUMBERS.items()
            if number.encode() in haystack or number.encode() in flat]


def test_the_planted_numbers_are_valid():
    for where, number in NUMBERS.items():
        assert (eid if where.startswith("card") else nn).is_valid(number), where


def test_masking_keeps_other_numbers():
    text = "Zaak DPO-AGO-2026-0042, tel 0470 12 34 56, IBAN BE68 5390 0754 7034, 12345678901"
    assert mask_numbers(text) == text
    n = NUMBERS["subject"]
    assert mask_numbers(f"nr. {dotted(n)}.") == f"nr. {n[:2]}.{n[2:4]}.{n[4:6]}-***.**."
    assert mask_bytes(f"<{n}>".encode()) == f"<{n[:2]}.{n[2:4]}.{n[4:6]}-***.**>".encode()
    assert mask_numbers("a" + n + "f") == "a" + n + "f"  # inside a token (a hash): left alone


def test_third_party_log_text_is_withheld_above_debug():
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(KeyValueFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(ThirdPartyFilter())
    logger = logging.getLogger("otherlib.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("Failed decoding header part: =?utf-8?q?Jan_Peeters?= <jan@example.be>")
        try:
            raise ValueError("Subject: geheim onderwerp")
        except ValueError:
            logger.warning("Skipped attachment 'x.pdf'", exc_info=True)
        logging.getLogger("intake.test").addHandler(handler)
        logging.getLogger("intake.test").error("ours", extra={"nr": NUMBERS["body"]})
    finally:
        logger.removeHandler(handler)
        logging.getLogger("intake.test").removeHandler(handler)
    out = buffer.getvalue()
    assert "jan@example.be" not in out and "Peeters" not in out and "geheim" not in out
    assert "x.pdf" not in out
    assert "ERROR otherlib.test log text withheld" in out and "exception=ValueError" in out
    assert "ours" in out and not leaks(out.encode())


def _database_text(db) -> bytes:
    """Every row of every table, as text (bytes columns as they are)."""
    found = []
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        found.append(bytes(value))
                    elif value is not None:
                        found.append(str(value).encode())
    return b"\n".join(found)


def _sqlite_files(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                    if p.exists())


def _mail_text(data: bytes) -> bytes:
    """The raw mail and every decoded header and part."""
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    parts = [data] + [str(value).encode() for value in parsed.values()]
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload)
    return b"\n".join(parts)


def test_no_planted_number_is_kept_sent_or_logged(imap, smtp_server, db, pipeline):
    imap.append(planted_request(), msg_time=RECEIVED)
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(ThirdPartyFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        report = Worker(settings, pipeline=pipeline).run_once()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert report.passes[0].cases_opened == 1, report
    [mail] = smtp_server.wait_for(1)
    with db.sessions() as session:
        message = session.scalars(select(Message)).one()
        case = session.scalars(select(Case)).one()
        assert case.due_date == date(2026, 4, 7)
        # What staff need stays: the text around the numbers, the birth-date part.
        assert "Mijn rijksregisternummer is 90.01.02-***.**" in (message.body_text or "")
        assert "rijksregisternummer 85.07.30-***.**" in message.subject

    assert leaks(_database_text(db)) == []
    if db.url.startswith("sqlite"):
        assert leaks(_sqlite_files(db.url)) == []
    sent = _mail_text(mail.data)
    assert leaks(sent) == []
    assert b"85.07.30-***.**" in sent  # the echoed subject, masked
    assert buffer.getvalue(), "nothing was logged"
    assert leaks(buffer.getvalue().encode()) == []


def test_the_cli_logging_withholds_library_text_and_masks_ours(capsys):
    from intake.logs import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging()
        logging.getLogger("mailparser.utils").error(
            "Failed decoding header part: =?shift_jis?b?gg==?= geheim onderwerp <an@example.be>")
        logging.getLogger("otherlib.sign").warning("signer cert serialNumber=%s",
                                                  NUMBERS["subject"])
        logging.getLogger("intake.processor").info("planted", extra={"n": NUMBERS["body"]})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "geheim" not in err and "an@example.be" not in err and "serialNumber" not in err
    assert err.count("log text withheld") == 2 and "planted" in err
    assert leaks(err.encode()) == []
