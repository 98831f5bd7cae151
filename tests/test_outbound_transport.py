"""SMTP and file transports, against a real private aiosmtpd server (STARTTLS, implicit TLS)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from intake.config import MailboxSettings, MaildirSettings, Secret, SmtpSettings
from intake.message import parse_message
from intake.outbound.render import ReplyContext, render_acknowledgement
from intake.outbound.transport import (
    FileTransport,
    SmtpTransport,
    TransportError,
    open_transport,
)
from intake.store.timezone import BRUSSELS
from tests.fixtures.smtp import PASSWORD_ENV, SMTP_PASSWORD, SMTP_USER, free_port

pytestmark = pytest.mark.smtp

SENDER = "dpo.ago@vlaanderen.be"
REQUESTER = "an.janssens@example.test"


@pytest.fixture
def message() -> bytes:
    """A real acknowledgement (non-ASCII body) as the bytes the outbox stores."""
    mailbox = MailboxSettings(
        key="ago", controller="Agentschap Overheidspersoneel", address=SENDER,
        reference_prefix="DPO-AGO", reply_languages=("nl", "fr"),
        maildir=MaildirSettings(path="/nonexistent"),
    )
    incoming = parse_message(
        f"From: An Janssens <{REQUESTER}>\r\nTo: {SENDER}\r\nSubject: Demande d'accès\r\n"
        "Message-ID: <q-7@example.test>\r\n\r\nJe voudrais accéder à mes données.\r\n".encode()
    )
    ctx = ReplyContext(
        kind="request", reference="DPO-AGO-2026-0007",
        received=datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS), due=date(2026, 4, 7),
        service_days=None, rights=("access",), identity_needed=False,
        days_left_when_suspended=None, language="fr", mailbox=mailbox,
    )
    return render_acknowledgement(ctx, incoming).as_bytes()


def test_starttls_and_auth_delivery(smtp_server, smtp_settings, message):
    with SmtpTransport(smtp_settings()) as transport:
        result = transport.send(SENDER, [REQUESTER], message)
    assert result.startswith("250 2.0.0 Ok: queued as ")
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == SENDER
    assert mail.rcpt_tos == (REQUESTER,)
    assert mail.user == SMTP_USER
    parsed = message_from_bytes(mail.data, policy=default_policy)
    assert parsed["Subject"].startswith("[DPO-AGO-2026-0007]")
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert "Nous avons bien reçu" in parsed.get_content()


def test_a_batch_uses_one_connection_and_one_login(smtp_server, smtp_settings, message):
    with SmtpTransport(smtp_settings()) as transport:
        for _ in range(3):
            transport.send(SENDER, [REQUESTER], message)
    assert len(smtp_server.wait_for(3)) == 3
    assert smtp_server.logins == 1


def test_send_outside_a_batch_logs_in_each_time(smtp_server, smtp_settings, message):
    transport = SmtpTransport(smtp_settings())
    transport.send(SENDER, [REQUESTER], message)
    transport.send(SENDER, [REQUESTER], message)
    assert len(smtp_server.wait_for(2)) == 2
    assert smtp_server.logins == 2


def test_implicit_tls_delivery(smtp_server_tls, message):
    settings = smtp_server_tls.settings()
    assert settings.tls == "implicit"
    with open_transport(settings) as transport:
        result = transport.send(SENDER, [REQUESTER], message)
    assert result.startswith("250")
    (mail,) = smtp_server_tls.wait_for(1)
    assert mail.user == SMTP_USER
    assert mail.data.rstrip(b"\r\n") == message.rstrip(b"\r\n")


def test_wrong_password_is_permanent(smtp_server, smtp_settings, message, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(TransportError) as caught, SmtpTransport(smtp_settings()) as transport:
        transport.send(SENDER, [REQUESTER], message)
    assert caught.value.code == 535
    assert caught.value.permanent
    assert caught.value.stage == "auth"
    assert smtp_server.received == []


def test_missing_password_variable_names_it(smtp_server, smtp_settings, message, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(SENDER, [REQUESTER], message)
    assert PASSWORD_ENV in str(caught.value)
    assert caught.value.stage == "auth"


def test_no_login_when_the_server_requires_it(smtp_server, smtp_settings, message):
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings(username="")).send(SENDER, [REQUESTER], message)
    assert caught.value.code == 530
    assert caught.value.permanent
    assert smtp_server.received == []


@pytest.mark.parametrize("server_fixture", ["smtp_server", "smtp_server_tls"])
def test_untrusted_certificate_is_a_clear_error(server_fixture, request, message):
    server = request.getfixturevalue(server_fixture)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(server.settings(ca_file="")).send(SENDER, [REQUESTER], message)
    assert caught.value.stage == "tls"
    assert "not trusted" in str(caught.value)
    assert "ca_file" in str(caught.value)
    assert not caught.value.permanent
    assert server.received == []


def test_a_dropped_batch_connection_is_reopened(smtp_server, smtp_settings, message):
    with SmtpTransport(smtp_settings()) as transport:
        transport.send(SENDER, [REQUESTER], message)
        # Stands for the server closing an idle connection between two messages.
        transport._smtp.close()
        assert transport.send(SENDER, [REQUESTER], message).startswith("250")
    assert len(smtp_server.wait_for(2)) == 2
    assert smtp_server.logins == 2


def test_no_starttls_offered_never_falls_back(smtp_server_plain, message):
    settings = smtp_server_plain.settings(tls="starttls", allow_plaintext=False)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(settings).send(SENDER, [REQUESTER], message)
    assert caught.value.stage == "tls"
    assert "STARTTLS" in str(caught.value)
    assert smtp_server_plain.received == []


def test_plaintext_only_when_allowed(smtp_server_plain, message):
    with pytest.raises(TransportError):
        SmtpTransport(smtp_server_plain.settings(allow_plaintext=False)).send(
            SENDER, [REQUESTER], message
        )
    assert smtp_server_plain.received == []
    result = SmtpTransport(smtp_server_plain.settings(allow_plaintext=True)).send(
        SENDER, [REQUESTER], message
    )
    assert result.startswith("250")
    assert len(smtp_server_plain.wait_for(1)) == 1


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("451 4.3.0 Try again later", False), ("450 4.2.1 Mailbox busy", False),
     ("550 5.1.1 No such user", True), ("553 5.1.3 Bad address syntax", True)],
)
def test_recipient_refusal_classification(smtp_server, smtp_settings, message, reply, permanent):
    smtp_server.refuse(REQUESTER, reply)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(SENDER, [REQUESTER], message)
    assert caught.value.permanent is permanent
    assert caught.value.code == int(reply[:3])
    assert caught.value.stage == "recipient"
    assert reply in str(caught.value)
    assert smtp_server.received == []


def test_a_refusal_does_not_spoil_the_batch(smtp_server, smtp_settings, message):
    smtp_server.refuse("gone@example.test", "550 5.1.1 No such user")
    with SmtpTransport(smtp_settings()) as transport:
        with pytest.raises(TransportError):
            transport.send(SENDER, ["gone@example.test"], message)
        assert transport.send(SENDER, [REQUESTER], message).startswith("250")
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == (REQUESTER,)
    assert smtp_server.logins == 1


def test_partial_refusal_delivers_to_the_others(smtp_server, smtp_settings, message):
    smtp_server.refuse("gone@example.test", "550 5.1.1 No such user")
    result = SmtpTransport(smtp_settings()).send(
        SENDER, [REQUESTER, "gone@example.test"], message
    )
    assert result.startswith("250")
    assert "gone@example.test 550" in result
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == (REQUESTER,)


def test_mixed_refusals_are_temporary(smtp_server, smtp_settings, message):
    smtp_server.refuse("gone@example.test", "550 5.1.1 No such user")
    smtp_server.refuse(REQUESTER, "452 4.2.2 Mailbox full")
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(SENDER, ["gone@example.test", REQUESTER], message)
    assert not caught.value.permanent
    assert caught.value.code == 452


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("452 4.3.1 Insufficient system storage", False), ("554 5.6.0 Message refused", True)],
)
def test_data_refusal_classification(smtp_server, smtp_settings, message, reply, permanent):
    smtp_server.refuse_data(reply)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(SENDER, [REQUESTER], message)
    assert caught.value.permanent is permanent
    assert caught.value.stage == "data"
    assert caught.value.code == int(reply[:3])


def test_nobody_listening_is_temporary(message):
    settings = SmtpSettings(transport="smtp", host="127.0.0.1", port=free_port(),
                            tls="starttls", timeout=5.0)
    with pytest.raises(TransportError) as caught:
        SmtpTransport(settings).send(SENDER, [REQUESTER], message)
    assert not caught.value.permanent
    assert caught.value.stage == "connect"


@pytest.mark.parametrize(
    ("mail_from", "recipients"),
    [(SENDER, ["victim@example.test>\r\nRCPT TO:<other@example.test"]),
     ("a@b.test\r\nRSET", [REQUESTER]), (SENDER, []), (SENDER, ["no-at-sign"])],
)
def test_bad_envelope_is_refused_before_connecting(smtp_server, smtp_settings, message,
                                                   mail_from, recipients):
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(mail_from, recipients, message)
    assert caught.value.permanent
    assert smtp_server.logins == 0


def test_password_and_body_never_logged(smtp_server, smtp_settings, message, caplog,
                                        monkeypatch):
    caplog.set_level(logging.DEBUG, logger="intake")
    with SmtpTransport(smtp_settings()) as transport:
        transport.send(SENDER, [REQUESTER], message)
    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD + "-wrong")
    with pytest.raises(TransportError) as caught:
        SmtpTransport(smtp_settings()).send(SENDER, [REQUESTER], message)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("intake"))
    assert SMTP_PASSWORD not in ours
    assert SMTP_PASSWORD not in str(caught.value)
    assert "Nous avons bien" not in ours
    assert REQUESTER not in ours


def test_file_transport_writes_a_parseable_eml(tmp_path, message):
    directory = tmp_path / "sent" / "nested"
    with open_transport(SmtpSettings(transport="file", file_dir=str(directory))) as transport:
        assert isinstance(transport, FileTransport)
        first = Path(transport.send(SENDER, [REQUESTER], message))
        second = Path(transport.send(SENDER, [REQUESTER], message))
    assert first != second
    assert sorted(p.name for p in directory.iterdir()) == sorted([first.name, second.name])
    assert first.suffix == ".eml"
    parsed = message_from_bytes(first.read_bytes(), policy=default_policy)
    assert parsed["Return-Path"] == f"<{SENDER}>"
    assert parsed["Delivered-To"] == REQUESTER
    assert parsed["Subject"].startswith("[DPO-AGO-2026-0007]")
    assert "Nous avons bien reçu" in parsed.get_content()
    assert first.stat().st_mode & 0o077 == 0  # personal data: owner only
    assert parse_message(first.read_bytes()).in_reply_to == ("<q-7@example.test>",)


def test_file_transport_error_is_temporary(tmp_path, message):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(TransportError) as caught:
        FileTransport(blocker).send(SENDER, [REQUESTER], message)
    assert not caught.value.permanent
    assert caught.value.stage == "write"
    assert list(tmp_path.iterdir()) == [blocker]


def test_open_transport_picks_smtp():
    settings = SmtpSettings(transport="smtp", password=Secret(env=PASSWORD_ENV))
    assert isinstance(open_transport(settings), SmtpTransport)
