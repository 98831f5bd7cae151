"""MaildirSource on temporary Maildirs, and its compatibility with the real Dovecot."""

from __future__ import annotations

import mailbox
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.config import MaildirSettings
from intake.source.base import PROCESSED_KEYWORD, QUARANTINE_KEYWORD, SourceError
from intake.source.maildir import MaildirSource
from tests.fixtures.dovecot import DovecotServer

# 2026-03-05 08:30:00 UTC and 2026-03-06 10:00:00 UTC as Maildir delivery times.
T1, T2 = 1772699400, 1772791200

REQUEST = (
    "From: An Testpersoon <an.testpersoon@example.invalid>\r\n"
    "Subject: Verwijdering van mijn gegevens\r\n"
    "Message-ID: <wissing-0001@example.invalid>\r\n"
    "\r\n"
    "Graag mijn gegevens wissen.  \r\n"
    "Groeten, An — één test\r\n"
).encode()


def _message(n: int) -> bytes:
    return REQUEST.replace(b"wissing-0001", f"wissing-{n:04d}".encode())


def _maildir(tmp_path: Path) -> Path:
    path = tmp_path / "ago"
    mailbox.Maildir(str(path), create=True)
    return path


def _deliver(maildir: Path, name: str, raw: bytes, sub: str = "new") -> Path:
    """Drop a message the way an MDA does: tmp/ then rename into new/ (or cur/)."""
    temp = maildir / "tmp" / name.split(":", 1)[0]
    temp.write_bytes(raw)
    target = maildir / sub / name
    os.rename(temp, target)
    return target


def _source(path: Path, after: str = "flag") -> MaildirSource:
    source = MaildirSource("ago", MaildirSettings(path=str(path), after=after))
    source.connect()
    return source


def _files(path: Path) -> list[str]:
    return sorted(f.name for sub in ("new", "cur") for f in (path / sub).iterdir())


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        _source(tmp_path / "nowhere")


def test_directory_without_maildir_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cur").mkdir()
    with pytest.raises(SourceError, match="is not a Maildir: no new, tmp subdirectories"):
        _source(tmp_path)


def test_calls_before_connect_fail_clearly(tmp_path: Path) -> None:
    source = MaildirSource("ago", MaildirSettings(path=str(_maildir(tmp_path))))
    with pytest.raises(SourceError, match="not opened"):
        source.pending_uids()


def test_pending_and_fetch_give_exact_bytes_and_delivery_time(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T2}.M2P200.testhost", _message(2))
    _deliver(path, f"{T1}.M1P100.testhost:2,S", _message(1), sub="cur")
    source = _source(path)
    uids = source.pending_uids()
    assert len(uids) == 2
    messages = source.fetch(uids)
    # UIDs follow delivery order, whatever the directory listing order.
    assert [m.raw for m in messages] == [_message(1), _message(2)]
    assert [m.internaldate for m in messages] == [
        datetime(2026, 3, 5, 8, 30, tzinfo=UTC), datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
    ]
    assert {m.uidvalidity for m in messages} == {source.uidvalidity()}
    assert {(m.mailbox_key, m.folder) for m in messages} == {("ago", "INBOX")}


def test_sizes_are_the_file_sizes(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P100.testhost", _message(1))
    _deliver(path, f"{T2}.M2P200.testhost", _message(2) + b"x" * 5000)
    source = _source(path)
    uids = source.pending_uids()
    assert source.sizes([*uids, 99]) == {uids[0]: len(_message(1)),
                                         uids[1]: len(_message(2)) + 5000}


def test_bare_lf_files_are_served_with_crlf_like_imap(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P1.testhost", _message(1).replace(b"\r\n", b"\n"))
    source = _source(path)
    assert [m.raw for m in source.fetch(source.pending_uids())] == [_message(1)]


def test_received_time_falls_back_to_mtime(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    file = _deliver(path, "handmade-message", REQUEST)
    os.utime(file, (T1, T1))
    source = _source(path)
    [message] = source.fetch(source.pending_uids())
    assert message.internaldate == datetime(2026, 3, 5, 8, 30, tzinfo=UTC)


def test_uids_are_stable_across_instances_and_never_reused(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P1.testhost", _message(1))
    _deliver(path, f"{T1 + 1}.M2P2.testhost", _message(2))
    first = _source(path)
    uids = first.pending_uids()
    validity = first.uidvalidity()
    assert uids == [1, 2]

    second = _source(path)
    assert (second.pending_uids(), second.uidvalidity()) == (uids, validity)

    # The first message goes away (e.g. archived by hand); a new one must not take its UID.
    (path / "new" / f"{T1}.M1P1.testhost").unlink()
    _deliver(path, f"{T2}.M3P3.testhost", _message(3))
    third = _source(path)
    assert third.pending_uids() == [2, 3]
    assert third.uidvalidity() == validity
    assert [m.raw for m in third.fetch([3])] == [_message(3)]


def test_mark_processed_sets_dovecot_keyword_letter(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P1.testhost", _message(1))
    _deliver(path, f"{T1 + 1}.M2P2.testhost:2,S", _message(2), sub="cur")
    source = _source(path)
    one, two = source.pending_uids()
    source.mark_processed([one])
    source.mark_processed([two])
    assert (path / "dovecot-keywords").read_text() == f"0 {PROCESSED_KEYWORD}\n"
    assert _files(path) == [f"{T1}.M1P1.testhost:2,a", f"{T1 + 1}.M2P2.testhost:2,Sa"]
    assert source.pending_uids() == []
    assert _source(path).pending_uids() == []
    # Flag changes keep the UID and the bytes.
    assert [m.raw for m in _source(path).fetch([one, two])] == [_message(1), _message(2)]


def test_quarantine_uses_its_own_keyword(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P1.testhost", _message(1))
    _deliver(path, f"{T2}.M2P2.testhost", _message(2))
    source = _source(path)
    one, two = source.pending_uids()
    source.mark_processed([one])
    source.quarantine(two, "hostile MIME")
    assert (path / "dovecot-keywords").read_text() == (
        f"0 {PROCESSED_KEYWORD}\n1 {QUARANTINE_KEYWORD}\n"
    )
    assert f"{T2}.M2P2.testhost:2,b" in _files(path)
    assert source.pending_uids() == []
    # In move mode only the quarantine keyword hides a message.
    assert _source(path, after="move").pending_uids() == [one]


def test_existing_keyword_file_is_respected(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    (path / "dovecot-keywords").write_text("0 $Label1\n1 $DPOIntake\n")
    _deliver(path, f"{T1}.M1P1.testhost:2,a", _message(1), sub="cur")  # $Label1 only
    source = _source(path)
    [uid] = source.pending_uids()
    source.mark_processed([uid])
    assert _files(path) == [f"{T1}.M1P1.testhost:2,ab"]
    assert (path / "dovecot-keywords").read_text() == "0 $Label1\n1 $DPOIntake\n"


def test_move_mode_moves_into_maildirplusplus_subfolder(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    _deliver(path, f"{T1}.M1P1.testhost", _message(1))
    _deliver(path, f"{T2}.M2P2.testhost:2,S", _message(2), sub="cur")
    source = MaildirSource("ago", MaildirSettings(path=str(path), after="move", move_to="Verwerkt"))
    source.connect()
    one, two = source.pending_uids()
    source.mark_processed([one])
    source.mark_processed([two])
    target = path / ".Verwerkt"
    assert (target / "maildirfolder").exists()
    assert sorted(f.name for f in (target / "cur").iterdir()) == [
        f"{T1}.M1P1.testhost:2,", f"{T2}.M2P2.testhost:2,S",
    ]
    assert (target / "cur" / f"{T1}.M1P1.testhost:2,").read_bytes() == _message(1)
    assert _files(path) == []
    assert source.pending_uids() == []


def test_marking_a_vanished_message_is_an_error(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    file = _deliver(path, f"{T1}.M1P1.testhost", _message(1))
    source = _source(path)
    [uid] = source.pending_uids()
    file.unlink()
    with pytest.raises(SourceError, match=f"UID {uid} is no longer in"):
        source.mark_processed([uid])
    assert source.fetch([uid]) == []


def test_unsupported_uidlist_version_is_refused(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    (path / "dovecot-uidlist").write_text("1 1234 5\n")
    with pytest.raises(SourceError, match="unsupported dovecot-uidlist version"):
        _source(path)


# -- the same directory seen by Dovecot -----------------------------------------------------


@pytest.mark.imap
def test_dovecot_and_maildir_source_agree(imap: DovecotServer) -> None:
    """UIDs, UIDVALIDITY and keywords written by either side are understood by the other."""
    first, second, third = (imap.append(_message(n)) for n in (1, 2, 3))
    with imap.client() as client:  # Dovecot registers both keywords and flags the first
        client.select_folder("INBOX")
        client.add_flags([first], [PROCESSED_KEYWORD])
        client.add_flags([third], [QUARANTINE_KEYWORD])
    maildir = imap.root / "mail" / imap.user

    source = _source(maildir)
    assert source.uidvalidity() == imap.uidvalidity("INBOX")
    assert source.pending_uids() == [second]
    assert [m.raw for m in source.fetch([second])] == [_message(2)]

    source.mark_processed([second])
    shutil.chown(maildir / "dovecot-uidlist", "nobody", "nogroup")  # we ran as root
    assert PROCESSED_KEYWORD in imap.flags("INBOX", second)
    assert imap.uids("INBOX") == [first, second, third]
