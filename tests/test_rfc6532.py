"""A request from a UTF-8 address (RFC 6532) gets its case and clock; the reply needs SMTPUTF8."""

from __future__ import annotations

import json
import sqlite3

from intake.outbound.render import usable_address
from tests.test_cli_run import AGO, RECEIVED, intake, write_settings

SENDER = "josé@example.be"


def utf8_request(seed: int) -> bytes:
    """A plain Dutch access request whose From, like RFC 6532 allows, is raw UTF-8."""
    return (
        f"From: José Peeters <{SENDER}>\r\n"
        f"To: {AGO}\r\n"
        "Subject: Verzoek tot inzage in mijn persoonsgegevens\r\n"
        "Date: Thu, 05 Mar 2026 10:00:00 +0100\r\n"
        f"Message-ID: <utf8-request-{seed}@example.be>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Geachte,\r\n\r\n"
        "Graag had ik, op grond van artikel 15 van de AVG, inzage gekregen in alle\r\n"
        "persoonsgegevens die u over mij verwerkt, de doeleinden en de bewaartermijn.\r\n"
        "Kunt u mij ook een kopie van die gegevens bezorgen?\r\n\r\n"
        "Met vriendelijke groeten,\r\nJosé Peeters\r\n"
    ).encode()


def test_addresses_the_reply_builder_accepts():
    assert usable_address(SENDER) == SENDER
    assert usable_address("jan@exämple.be") == "jan@xn--exmple-cua.be"
    assert usable_address("jo sé@example.be") is None
    assert usable_address("josé\u202e@example.be") is None  # a bidi control is not printable
    assert usable_address("josé@") is None


def _case(tmp_path):
    db = sqlite3.connect(tmp_path / "intake.db")
    try:
        return db.execute(
            "select c.requester_address, c.due_date, c.needs_review, c.review_reason, m.status "
            "from \"case\" c join message m on m.case_id = c.id").fetchall()
    finally:
        db.close()


def test_utf8_sender_gets_case_clock_and_an_smtputf8_acknowledgement(
    tmp_path, imap, smtp_server
):
    imap.append(utf8_request(1), msg_time=RECEIVED)
    settings = str(write_settings(tmp_path, imap, smtp_server))
    intake("--config", settings, "db", "upgrade")
    report = json.loads(intake("run", "--once", "--json", "--config", settings).stdout)
    assert report["mailboxes"][0]["quarantined"] == 0
    assert report["mailboxes"][0]["cases_opened"] == 1
    assert report["outbox"]["sent"] == 1
    [(address, due, _review, _why, status)] = _case(tmp_path)
    assert (address, due, status) == (SENDER, "2026-04-07", "processed")
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == (SENDER,) and mail.smtputf8
    assert f"<{SENDER}>".encode() in mail.data.split(b"\r\n\r\n", 1)[0]


def test_without_smtputf8_the_case_is_flagged_could_not_acknowledge(
    tmp_path, imap, smtp_server_ascii
):
    imap.append(utf8_request(2), msg_time=RECEIVED)
    settings = str(write_settings(tmp_path, imap, smtp_server_ascii))
    intake("--config", settings, "db", "upgrade")
    report = json.loads(intake("run", "--once", "--json", "--config", settings).stdout)
    assert report["mailboxes"][0]["quarantined"] == 0
    assert report["mailboxes"][0]["cases_opened"] == 1
    assert (report["outbox"]["sent"], report["outbox"]["failed"]) == (0, 1), report
    [(address, due, needs_review, why, status)] = _case(tmp_path)
    assert (address, due, status, needs_review) == (SENDER, "2026-04-07", "processed", 1)
    assert why.startswith("could not acknowledge") and "SMTPUTF8" in why
    assert smtp_server_ascii.received == []
