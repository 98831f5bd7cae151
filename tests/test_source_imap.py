"""ImapSource against a real private Dovecot: TLS, login errors, fetch, flag/move, quarantine."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from intake.config import ImapSettings, MailboxSettings, MaildirSettings, Secret
from intake.source import MaildirSource, open_source
from intake.source import imap as imap_module
from intake.source.base import PROCESSED_KEYWORD, QUARANTINE_KEYWORD, SourceError
from intake.source.imap import ImapSource, _keywords_allowed
from tests.fixtures.dovecot import DovecotServer

pytestmark = pytest.mark.imap

BRUSSELS_WINTER = timezone(timedelta(hours=1))

# Fictional request; CRLF line ends, trailing blanks and 8-bit UTF-8 must survive byte for byte.
REQUEST = (
    "From: Jan Testpersoon <jan.testpersoon@example.invalid>\r\n"
    "To: dpo.test@intake.test\r\n"
    "Subject: Inzage in mijn persoonsgegevens\r\n"
    "Message-ID: <inzage-0001@example.invalid>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Geachte, ik vraag inzage in mijn gegevens.   \r\n"
    "Met vriendelijke groet, Jan — één test\r\n"
).encode()


def _message(n: int) -> bytes:
    return REQUEST.replace(b"inzage-0001", f"inzage-{n:04d}".encode())


@pytest.fixture
def source_for(imap: DovecotServer) -> Iterator:
    """Build connected ImapSources for the test server; all are closed afterwards."""
    opened: list[ImapSource] = []

    def make(**overrides: object) -> ImapSource:
        source = ImapSource("test", imap.imap_settings(**overrides))
        source.connect()
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- connecting -----------------------------------------------------------------------------


def test_implicit_tls_with_the_test_ca(imap: DovecotServer, source_for) -> None:
    source = source_for()
    assert source.uidvalidity() == imap.uidvalidity("INBOX")
    assert source.pending_uids() == []


def test_starttls_with_the_test_ca(imap: DovecotServer, source_for) -> None:
    uid = imap.append(REQUEST)
    source = source_for(port=imap.port, tls="starttls")
    assert source.pending_uids() == [uid]


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_certificate_not_trusted_without_the_ca(imap: DovecotServer, tls: str) -> None:
    port = imap.tls_port if tls == "implicit" else imap.port
    source = ImapSource("test", imap.imap_settings(port=port, tls=tls, ca_file=""))
    with pytest.raises(SourceError, match="certificate verification failed") as info:
        source.connect()
    assert f"127.0.0.1:{port}" in str(info.value)
    assert not source.connected


def test_wrong_password_is_refused_without_showing_it(
    imap: DovecotServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Verkeerd-Wachtwoord-42"
    monkeypatch.setenv("INTAKE_TEST_WRONG_PASSWORD", wrong)
    settings = imap.imap_settings(password=Secret(env="INTAKE_TEST_WRONG_PASSWORD"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as info:
        ImapSource("test", settings).connect()
    message = str(info.value)
    assert message.startswith(f"login refused for user {imap.user} at 127.0.0.1:{imap.tls_port}")
    assert wrong not in message
    assert wrong not in caplog.text


def test_correct_password_never_reaches_the_log(
    imap: DovecotServer, source_for, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imapclient")  # `intake` itself quietens it
    source_for().pending_uids()
    assert "LOGIN" in caplog.text  # imapclient did log the exchange ...
    assert imap.password not in caplog.text  # ... with the secret redacted


def test_password_variable_not_set(imap: DovecotServer) -> None:
    settings = imap.imap_settings(password=Secret(env="INTAKE_TEST_UNSET_VARIABLE_XYZ"))
    with pytest.raises(SourceError, match=r"no IMAP password for user .*INTAKE_TEST_UNSET"):
        ImapSource("test", settings).connect()


def test_unreachable_port(imap: DovecotServer) -> None:
    port = _closed_port()
    source = ImapSource("test", imap.imap_settings(port=port))
    with pytest.raises(SourceError, match=rf"cannot connect to 127\.0\.0\.1:{port}: "):
        source.connect()


def test_unknown_host() -> None:
    settings = ImapSettings(host="imap.does-not-exist.invalid", password=Secret(env="X"))
    with pytest.raises(SourceError, match=r"cannot connect to imap\.does-not-exist\.invalid:993"):
        ImapSource("test", settings).connect()


def test_plaintext_needs_allow_plaintext(imap: DovecotServer, source_for) -> None:
    with pytest.raises(SourceError, match="allow_plaintext"):
        ImapSource("test", imap.imap_settings(port=imap.port, tls="none")).connect()
    uid = imap.append(REQUEST)
    source = source_for(port=imap.port, tls="none", allow_plaintext=True)
    assert source.pending_uids() == [uid]


def test_implicit_tls_against_a_plain_port_fails_clearly(imap: DovecotServer) -> None:
    source = ImapSource("test", imap.imap_settings(port=imap.port, tls="implicit", timeout=5.0))
    with pytest.raises(SourceError, match=f"127.0.0.1:{imap.port}"):
        source.connect()


def test_missing_folder(imap: DovecotServer) -> None:
    source = ImapSource("test", imap.imap_settings(folder="Bestaat-Niet"))
    with pytest.raises(SourceError, match="folder 'Bestaat-Niet' does not exist for user"):
        source.connect()


def test_calls_before_connect_fail_clearly(imap: DovecotServer) -> None:
    source = ImapSource("test", imap.imap_settings())
    with pytest.raises(SourceError, match="not connected"):
        source.pending_uids()
    source.close()
    source.close()


# -- the processing cycle -------------------------------------------------------------------


def test_fetch_returns_exact_bytes_and_internaldate_without_seen(
    imap: DovecotServer, source_for
) -> None:
    received = datetime(2026, 3, 5, 9, 30, 15, tzinfo=BRUSSELS_WINTER)
    uid = imap.append(REQUEST, msg_time=received)
    source = source_for()
    assert source.pending_uids() == [uid]
    [message] = source.fetch([uid])
    assert message.raw == REQUEST
    assert message.internaldate == received
    assert message.internaldate.utcoffset() is not None  # aware (Dovecot answers in its zone)
    assert (message.mailbox_key, message.folder, message.uid) == ("test", "INBOX", uid)
    assert message.uidvalidity == source.uidvalidity()
    assert "\\Seen" not in imap.flags("INBOX", uid)


def test_fetch_in_chunks_keeps_order_and_skips_vanished(
    imap: DovecotServer, source_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap_module, "FETCH_CHUNK", 2)
    uids = [imap.append(_message(n)) for n in range(5)]
    source = source_for()
    asked = [uids[3], uids[0], 999_999, uids[4], uids[1], uids[2]]
    fetched = source.fetch(asked)
    assert [m.uid for m in fetched] == [uids[3], uids[0], uids[4], uids[1], uids[2]]
    assert [m.raw for m in fetched] == [_message(n) for n in (3, 0, 4, 1, 2)]


def test_sizes_without_reading_the_bodies(imap: DovecotServer, source_for) -> None:
    uids = [imap.append(_message(n) + b"x" * (n * 1000)) for n in range(3)]
    source = source_for()
    sizes = source.sizes([*uids, 999_999])
    assert sizes == {uid: len(_message(n)) + n * 1000 for n, uid in enumerate(uids)}
    assert all("\\Seen" not in imap.flags("INBOX", uid) for uid in uids)


def test_flag_mode_marks_with_keyword_and_keeps_the_message(
    imap: DovecotServer, source_for
) -> None:
    first, second = imap.append(_message(1)), imap.append(_message(2))
    source = source_for()
    assert source.pending_uids() == [first, second]
    source.mark_processed([first])
    assert source.pending_uids() == [second]
    assert PROCESSED_KEYWORD in imap.flags("INBOX", first)
    assert "\\Seen" not in imap.flags("INBOX", first)
    assert imap.uids("INBOX") == [first, second]
    # A new connection (after a restart) agrees.
    assert source_for().pending_uids() == [second]


def test_move_mode_moves_to_created_folder(imap: DovecotServer, source_for) -> None:
    first, second = imap.append(_message(1)), imap.append(_message(2))
    source = source_for(after="move", move_to="Verwerkt")
    source.mark_processed([first])
    assert source.pending_uids() == [second]
    assert imap.uids("INBOX") == [second]
    [moved] = imap.uids("Verwerkt")
    with imap.client() as client:
        client.select_folder("Verwerkt", readonly=True)
        body = client.fetch([moved], ["BODY.PEEK[]"])[moved][b"BODY[]"]
    assert body == _message(1)


def test_move_without_move_capability_expunges_only_that_uid(
    imap: DovecotServer, source_for
) -> None:
    processed, deleted_by_staff = imap.append(_message(1)), imap.append(_message(2))
    with imap.client() as client:  # staff marked a message deleted but did not expunge
        client.select_folder("INBOX")
        client.add_flags([deleted_by_staff], ["\\Deleted"])
    source = source_for(after="move", move_to="Verwerkt")
    real = source._client.has_capability  # hide MOVE: an older server with UIDPLUS only
    source._client.has_capability = lambda name: name.upper() != "MOVE" and real(name)
    source.mark_processed([processed])
    assert imap.uids("INBOX") == [deleted_by_staff]
    assert len(imap.uids("Verwerkt")) == 1


def test_move_mode_ignores_the_flag_but_respects_quarantine(
    imap: DovecotServer, source_for
) -> None:
    flagged = imap.append(_message(1), flags=[PROCESSED_KEYWORD])
    quarantined = imap.append(_message(2), flags=[QUARANTINE_KEYWORD])
    plain = imap.append(_message(3))
    assert source_for(after="move").pending_uids() == [flagged, plain]
    assert source_for(after="flag").pending_uids() == [plain]
    assert quarantined not in source_for(after="move").pending_uids()


def test_quarantine_flags_in_place(imap: DovecotServer, source_for) -> None:
    uid = imap.append(REQUEST)
    source = source_for()
    source.quarantine(uid, "MIME parse error")
    assert source.pending_uids() == []
    assert QUARANTINE_KEYWORD in imap.flags("INBOX", uid)
    assert PROCESSED_KEYWORD not in imap.flags("INBOX", uid)


def test_quarantine_to_folder(imap: DovecotServer, source_for) -> None:
    uid = imap.append(REQUEST)
    source = source_for(quarantine_to="Quarantaine")
    source.quarantine(uid, "MIME parse error")
    assert source.pending_uids() == []
    assert imap.uids("INBOX") == []
    assert len(imap.uids("Quarantaine")) == 1


def test_uidvalidity_changes_when_the_folder_is_recreated(
    imap: DovecotServer, source_for
) -> None:
    imap.append(REQUEST)
    before = source_for().uidvalidity()
    imap.recreate_folder("INBOX")
    imap.append(REQUEST)
    after = source_for().uidvalidity()
    assert after != before
    assert after == imap.uidvalidity("INBOX")


def test_lost_connection_is_reported_and_keepalive_reconnects(
    imap: DovecotServer, source_for
) -> None:
    uid = imap.append(REQUEST)
    source = source_for()
    source.keepalive()  # a plain NOOP on a healthy connection
    assert source.connected
    source._client.shutdown()  # the server or a firewall dropped us
    with pytest.raises(SourceError, match=r"connection to 127\.0\.0\.1:\d+ lost"):
        source.pending_uids()
    assert not source.connected
    source.keepalive()
    assert source.pending_uids() == [uid]


# -- pieces that a Dovecot cannot show ------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "allowed"),
    [
        ({b"PERMANENTFLAGS": (b"\\Seen", b"\\Deleted", b"\\*")}, True),
        ({b"PERMANENTFLAGS": (b"\\Seen", b"\\Deleted")}, False),  # e.g. Exchange Online
        ({b"PERMANENTFLAGS": (b"\\Seen", b"$DPOIntake", b"$DPOQuarantine")}, True),
        ({b"PERMANENTFLAGS": (b"\\Seen", b"$DPOIntake")}, False),
        ({}, True),  # RFC 3501: no PERMANENTFLAGS means all flags are permanent
    ],
)
def test_keywords_allowed(response: dict, allowed: bool) -> None:
    assert _keywords_allowed(response) is allowed


def test_open_source_picks_the_kind(tmp_path) -> None:
    common = {"key": "ago", "controller": "Test", "address": "dpo@intake.test",
              "reference_prefix": "DPO-T"}
    imap_box = MailboxSettings(**common, imap=ImapSettings(host="imap.intake.test"))
    maildir_box = MailboxSettings(**common, maildir=MaildirSettings(path=str(tmp_path)))
    assert isinstance(open_source(imap_box), ImapSource)
    assert isinstance(open_source(maildir_box), MaildirSource)
    assert open_source(imap_box).mailbox_key == "ago"
