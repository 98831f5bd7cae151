"""Hostile Maildir entries: names that are not UTF-8 or hold control characters, symbolic links
and special files neither stop a pass nor get read as mail."""

from __future__ import annotations

import os
from pathlib import Path

from intake.source.maildir import UIDLIST
from tests.test_source_maildir import T1, T2, _deliver, _maildir, _message, _source


def _uidlist_records(maildir: Path) -> list[str]:
    text = (maildir / UIDLIST).read_bytes().decode("utf-8")  # must stay valid UTF-8
    lines = text.split("\n")
    assert lines[-1] == ""
    assert lines[0].startswith("3 V")
    return lines[1:-1]


def _drop_bytes_name(maildir: Path, name: bytes, raw: bytes) -> None:
    temp = maildir / "tmp" / "incoming"
    temp.write_bytes(raw)
    os.rename(bytes(temp), os.path.join(bytes(maildir), b"new", name))


def test_a_name_that_is_not_utf8_is_processed_under_a_safe_name(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path)
    _drop_bytes_name(maildir, f"{T1}.M1P1.host".encode() + b"\xff\xfe", _message(1))
    _deliver(maildir, f"{T2}.M2P2.host", _message(2))
    source = _source(maildir)
    uids = source.pending_uids()
    assert len(uids) == 2
    fetched = source.fetch(uids)
    assert sorted(f.raw for f in fetched) == sorted([_message(1), _message(2)])
    # The delivery time of the old name is kept, so is its place in the UID order.
    assert fetched[0].internaldate.timestamp() == T1 and fetched[0].raw == _message(1)
    names = os.listdir(maildir / "new")
    assert any(n.startswith(f"{T1}.intake-safe-") for n in names)
    assert len(_uidlist_records(maildir)) == 2
    source.mark_processed(uids)
    assert source.pending_uids() == []


def test_a_name_with_a_newline_cannot_corrupt_the_uidlist(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path)
    _deliver(maildir, f"{T1}.M1P1.ho\nst\tx", _message(1))
    _deliver(maildir, f"{T2}.M2P2.host", _message(2))
    source = _source(maildir)
    uids = source.pending_uids()
    assert len(uids) == 2
    records = _uidlist_records(maildir)
    assert len(records) == 2 and all(r.split(" :", 1)[1].isprintable() for r in records)
    source.mark_processed(uids)
    assert source.pending_uids() == []
    # Another instance (the next pass) agrees on the UIDs.
    assert _source(maildir).pending_uids() == []


def test_a_symbolic_link_is_refused_and_never_read(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_bytes(_message(9))
    os.symlink(outside, maildir / "new" / f"{T1}.M1P1.link")
    os.symlink("/etc/hostname", maildir / "cur" / f"{T1}.M3P3.link:2,")
    _deliver(maildir, f"{T2}.M2P2.host", _message(2))
    source = _source(maildir)
    uids = source.pending_uids()
    assert len(uids) == 1
    assert [f.raw for f in source.fetch(uids)] == [_message(2)]
    assert len(_uidlist_records(maildir)) == 1


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path)
    path = _deliver(maildir, f"{T1}.M1P1.host", _message(1))
    _deliver(maildir, f"{T2}.M2P2.host", _message(2))
    source = _source(maildir)
    uids = source.pending_uids()
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"not mail")
    os.unlink(path)
    os.symlink(outside, path)
    # fetch() scans again and refuses the link; a link made between that scan and the read
    # is refused by O_NOFOLLOW (the same check), so the secret is never served.
    assert [f.raw for f in source.fetch(uids)] == [_message(2)]


def test_special_files_are_refused_without_stopping_the_pass(tmp_path: Path) -> None:
    maildir = _maildir(tmp_path)
    os.mkfifo(maildir / "new" / f"{T1}.M1P1.fifo")  # reading it would block forever
    os.mkdir(maildir / "new" / f"{T1}.M4P4.dir")
    _deliver(maildir, f"{T2}.M2P2.host", _message(2))
    source = _source(maildir)
    uids = source.pending_uids()
    assert [f.raw for f in source.fetch(uids)] == [_message(2)]


def test_reading_never_follows_a_link(tmp_path: Path) -> None:
    from intake.source.maildir import _NotRegular, _read_regular

    target = tmp_path / "secret.txt"
    target.write_bytes(b"not mail")
    link = tmp_path / "link"
    os.symlink(target, link)
    try:
        _read_regular(link)
    except _NotRegular as exc:
        assert "symbolic link" in str(exc)
    else:
        raise AssertionError("a symbolic link was read")
    os.mkfifo(tmp_path / "fifo")
    try:
        _read_regular(tmp_path / "fifo")
    except _NotRegular as exc:
        assert "regular" in str(exc)
    else:
        raise AssertionError("a FIFO was read")
    assert _read_regular(target) == b"not mail"
