"""A local Maildir as a message source (demo, offline), with Dovecot-compatible UIDs and keywords.

UIDs: Maildir has none, so this module keeps them the way Dovecot does, in `dovecot-uidlist`
(version 3: a header `3 V<uidvalidity> N<next uid>` and one `<uid> :<unique name>` line per
message). A message keeps its UID for as long as its unique name (the file name before ":2,")
lives in the directory, across restarts and flag changes; UIDs are never reused. A directory
that Dovecot already serves keeps Dovecot's UIDVALIDITY and UIDs, so the two views agree.

Keywords: like Dovecot, `dovecot-keywords` maps an index to a keyword ("0 $DPOIntake") and the
message file carries the letter for that index in its info part (index 0 = "a": ":2,a").
Files are renamed, never rewritten or deleted.

Names and files: a file name that is not UTF-8 or holds control characters or spaces is renamed
to a safe name (its delivery time, then a hash of the old name) and processed under it, so it
can neither stop the pass nor corrupt `dovecot-uidlist`. Symbolic links and anything that is not
a regular file are refused (logged and left alone), and never followed when a message is read.

Bytes: Maildir files usually have bare LF line ends (Dovecot stores them so) while IMAP serves
CRLF. fetch() returns what an IMAP server would send for the same file: bare LFs become CRLF,
a file that already has CRLF is returned unchanged, byte for byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import mailbox
import os
import re
import stat
import string
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from intake.config import MaildirSettings
from intake.source.base import (
    PROCESSED_KEYWORD,
    QUARANTINE_KEYWORD,
    FetchedMessage,
    SourceError,
)

log = logging.getLogger(__name__)

UIDLIST = "dovecot-uidlist"
KEYWORDS = "dovecot-keywords"
INFO_SEP = ":2,"
KEYWORD_LETTERS = string.ascii_lowercase  # Maildir info part: a-z are the keywords 0-25
LOCK_STALE_SECONDS = 120.0
LOCK_WAIT_SECONDS = 10.0
_BARE_LF = re.compile(rb"(?<!\r)\n")


@dataclass(frozen=True)
class _Entry:
    """One message file: where it is and what its info part says."""

    unique: str  # the file name before ":2," (Maildir's key)
    path: Path
    flags: str  # the letters after ":2,": upper case standard flags, lower case keywords


class MaildirSource:
    """The top-level folder (INBOX) of one Maildir directory."""

    def __init__(self, mailbox_key: str, settings: MaildirSettings) -> None:
        self.mailbox_key = mailbox_key
        self.settings = settings
        self.folder = "INBOX"
        self.path = Path(settings.path)
        self._box: mailbox.Maildir | None = None
        self._uidvalidity = 0
        self._uids: dict[str, int] = {}  # unique name -> UID

    # -- the MessageSource interface --------------------------------------------------------

    def connect(self) -> None:
        """Check that the directory is a Maildir and load (or start) its UID list."""
        try:
            box = mailbox.Maildir(str(self.path), factory=None, create=False)
        except mailbox.NoSuchMailboxError:
            raise SourceError(f"Maildir {self.path} does not exist") from None
        missing = [sub for sub in ("cur", "new", "tmp") if not (self.path / sub).is_dir()]
        if missing:
            raise SourceError(
                f"{self.path} is not a Maildir: no {', '.join(missing)} subdirector"
                f"{'ies' if len(missing) > 1 else 'y'}"
            )
        self._box = box
        self._sync_uids()
        log.info("mailbox %s: Maildir %s, UIDVALIDITY %d",
                 self.mailbox_key, self.path, self._uidvalidity)

    def close(self) -> None:
        if self._box is not None:
            self._box.close()
        self._box = None

    def uidvalidity(self) -> int:
        self._require_open()
        return self._uidvalidity

    def pending_uids(self) -> list[int]:
        """UIDs without the processed keyword (flag mode) and without the quarantine keyword."""
        self._require_open()
        entries = self._sync_uids()
        letters = self._keyword_letters()
        skip = {letters.get(QUARANTINE_KEYWORD)}
        if self.settings.after == "flag":
            skip.add(letters.get(PROCESSED_KEYWORD))
        skip.discard(None)
        return sorted(
            self._uids[e.unique] for e in entries.values() if not skip & set(e.flags)
        )

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """The size of each message's file (without reading it); vanished UIDs are left out."""
        self._require_open()
        entries = self._sync_uids()
        by_uid = {self._uids[unique]: entry for unique, entry in entries.items()}
        found: dict[int, int] = {}
        for uid in uids:
            entry = by_uid.get(uid)
            if entry is not None:
                with contextlib.suppress(OSError):
                    found[uid] = entry.path.lstat().st_size
        return found

    def fetch(self, uids: list[int]) -> list[FetchedMessage]:
        """The file's bytes with CRLF line ends; received time from the unique name, else mtime.

        The unique name's time is the delivery time (Maildir spec) and survives copying; the
        mtime does not (Dovecot keeps APPEND's INTERNALDATE there, a git checkout resets it).
        """
        self._require_open()
        entries = self._sync_uids()
        by_uid = {self._uids[unique]: entry for unique, entry in entries.items()}
        found: list[FetchedMessage] = []
        for uid in uids:
            entry = by_uid.get(uid)
            if entry is None:
                log.warning("mailbox %s: UID %d no longer in %s", self.mailbox_key, uid, self.path)
                continue
            try:
                raw = _BARE_LF.sub(b"\r\n", _read_regular(entry.path))
                received = _received(entry)
            except FileNotFoundError:  # renamed or moved by someone else meanwhile
                log.warning("mailbox %s: UID %d vanished from %s", self.mailbox_key, uid, self.path)
                continue
            except _NotRegular as exc:  # swapped for a link or a device since the scan
                self._refuse(entry.path.parent.name, entry.path.name, str(exc))
                continue
            found.append(FetchedMessage(
                mailbox_key=self.mailbox_key, folder=self.folder, uidvalidity=self._uidvalidity,
                uid=uid, internaldate=received, raw=raw,
            ))
        return found

    def mark_processed(self, uids: Sequence[int]) -> None:
        for uid in uids:
            if self.settings.after == "move":
                self._move(uid, self.settings.move_to)
            else:
                self._add_keyword(uid, PROCESSED_KEYWORD)
        log.debug("mailbox %s: %d UID(s) marked processed (%s)",
                  self.mailbox_key, len(uids), self.settings.after)

    def quarantine(self, uid: int, reason: str) -> None:
        self._add_keyword(uid, QUARANTINE_KEYWORD)
        log.warning("mailbox %s: UID %d quarantined: %s", self.mailbox_key, uid, reason)

    # -- files ------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._box is None:
            raise SourceError(f"mailbox {self.mailbox_key}: Maildir not opened (call connect())")

    def _scan(self) -> dict[str, _Entry]:
        """Every message file in new/ and cur/, by unique name.

        Scanned directly because Python 3.11's mailbox.Maildir exposes no info part per key
        (get_info/set_info arrive in 3.13) and reading it via get_message parses every message.
        """
        entries: dict[str, _Entry] = {}
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as listing:
                items = list(listing)
            for item in items:
                if item.name.startswith("."):
                    continue
                if not item.is_file(follow_symlinks=False):
                    self._refuse(sub, item.name, "a symbolic link" if item.is_symlink()
                                 else "not a regular file")
                    continue
                name, path = item.name, Path(item.path)
                if not _safe_name(name):
                    safe = self._rename_unsafe(path)
                    if safe is None:
                        continue
                    name, path = safe.name, safe
                unique, _sep, flags = name.partition(INFO_SEP)
                if ":" in unique:  # an info part of another version: keep the name whole
                    unique, flags = name.split(":", 1)[0], ""
                entries[unique] = _Entry(unique, path, flags)
        return entries

    def _refuse(self, sub: str, name: str, why: str) -> None:
        log.warning("mailbox %s: refused %s/%s in %s: %s", self.mailbox_key, sub,
                    _printable(name), self.path, why)

    def _rename_unsafe(self, path: Path) -> Path | None:
        """Rename a file whose name is not UTF-8 or holds control characters or spaces to a safe
        name (same delivery time and flags, a hash of the old name); None if that fails."""
        raw = os.fsencode(path.name)
        unique, sep, flags = path.name.partition(INFO_SEP)
        when = _name_time(unique.split(":", 1)[0])
        digest = hashlib.sha256(raw).hexdigest()[:24]
        safe_unique = f"{when}.intake-safe-{digest}" if when else f"intake-safe-{digest}"
        letters = "".join(c for c in flags if c in string.ascii_letters) if sep else ""
        target = path.with_name(safe_unique + (INFO_SEP + letters if sep else ""))
        try:
            os.rename(path, target)
        except OSError as exc:
            self._refuse(path.parent.name, path.name,
                         f"unsafe file name that could not be renamed ({exc.strerror})")
            return None
        log.warning("mailbox %s: renamed %s/%s (not UTF-8, or control characters) to %s",
                    self.mailbox_key, path.parent.name, _printable(path.name), target.name)
        return target

    def _sync_uids(self) -> dict[str, _Entry]:
        """Scan the files and give each new unique name the next UID (saved before returning)."""
        entries = self._scan()
        uidlist = _UidList.read(self.path / UIDLIST)
        new = [u for u in entries if u not in uidlist.uids]
        if new or not uidlist.exists:
            with _dotlock(self.path / UIDLIST):
                uidlist = _UidList.read(self.path / UIDLIST)  # re-read under the lock
                new = sorted(
                    (u for u in entries if u not in uidlist.uids),
                    key=lambda u: (_name_time(u) or 0, u),
                )
                for unique in new:
                    uidlist.add(unique)
                uidlist.write(self.path / UIDLIST)
        self._uidvalidity = uidlist.uidvalidity
        self._uids = uidlist.uids
        return entries

    def _entry(self, uid: int) -> _Entry:
        for unique, entry in self._sync_uids().items():
            if self._uids.get(unique) == uid:
                return entry
        raise SourceError(f"message UID {uid} is no longer in {self.path}")

    def _keyword_letters(self) -> dict[str, str]:
        return {keyword: KEYWORD_LETTERS[i] for i, keyword in _read_keywords(self.path).items()
                if i < len(KEYWORD_LETTERS)}

    def _keyword_letter(self, keyword: str) -> str:
        """The letter for a keyword, registering it in dovecot-keywords if new."""
        letters = self._keyword_letters()
        if keyword in letters:
            return letters[keyword]
        path = self.path / KEYWORDS
        with _dotlock(path):
            keywords = _read_keywords(self.path)
            if keyword not in keywords.values():
                free = next((i for i in range(len(KEYWORD_LETTERS)) if i not in keywords), None)
                if free is None:
                    raise SourceError(f"{path}: all 26 keyword letters are in use")
                keywords[free] = keyword
                _write_locked(path, "".join(f"{i} {k}\n" for i, k in sorted(keywords.items())))
        return self._keyword_letters()[keyword]

    def _add_keyword(self, uid: int, keyword: str) -> None:
        self._require_open()
        letter = self._keyword_letter(keyword)
        entry = self._entry(uid)
        if letter in entry.flags and entry.path.parent.name == "cur":
            return
        flags = "".join(sorted(set(entry.flags) | {letter}))
        target = self.path / "cur" / f"{entry.unique}{INFO_SEP}{flags}"
        _rename(entry.path, target)

    def _move(self, uid: int, folder: str) -> None:
        """Into the Maildir++ subfolder .<folder>/cur, keeping standard flags, not keywords.

        Keyword letters are dropped: they index this folder's dovecot-keywords, not the target's.
        """
        self._require_open()
        assert self._box is not None
        entry = self._entry(uid)
        if folder not in self._box.list_folders():
            self._box.add_folder(folder)  # .<folder> with cur/new/tmp and maildirfolder
            log.info("mailbox %s: created Maildir folder .%s", self.mailbox_key, folder)
        flags = "".join(sorted(f for f in set(entry.flags) if f not in KEYWORD_LETTERS))
        target = self.path / f".{folder}" / "cur" / f"{entry.unique}{INFO_SEP}{flags}"
        _rename(entry.path, target)


class _UidList:
    """dovecot-uidlist, version 3: other header fields and record extensions are kept as is."""

    def __init__(self, exists: bool, header: list[str], records: list[str]) -> None:
        self.exists = exists
        self.header = header
        self.records = records  # the original record lines, then ours
        self.uids: dict[str, int] = {}
        self.next_uid = 1
        for token in header[1:]:
            if token.startswith("N") and token[1:].isdigit():
                self.next_uid = int(token[1:])
        for line in records:
            head, _sep, unique = line.partition(" :")
            uid = head.split(" ", 1)[0]
            if uid.isdigit() and unique:
                self.uids[unique] = int(uid)
                self.next_uid = max(self.next_uid, int(uid) + 1)

    @property
    def uidvalidity(self) -> int:
        for token in self.header[1:]:
            if token.startswith("V") and token[1:].isdigit():
                return int(token[1:])
        return 0

    @classmethod
    def read(cls, path: Path) -> _UidList:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            # A new list: UIDVALIDITY from the clock, as Dovecot does (fits in 32 bits).
            return cls(False, ["3", f"V{int(time.time())}", "N1"], [])
        if not lines or lines[0].split(" ", 1)[0] != "3":
            raise SourceError(f"{path}: unsupported dovecot-uidlist version (expected 3)")
        uidlist = cls(True, lines[0].split(), [line for line in lines[1:] if line.strip()])
        if not uidlist.uidvalidity:
            raise SourceError(f"{path}: no UIDVALIDITY in the header")
        return uidlist

    def add(self, unique: str) -> None:
        self.records.append(f"{self.next_uid} :{unique}")
        self.uids[unique] = self.next_uid
        self.next_uid += 1

    def write(self, path: Path) -> None:
        header = [t for t in self.header if not t.startswith("N")]
        header.insert(2 if len(header) > 1 else 1, f"N{self.next_uid}")
        _write_locked(path, " ".join(header) + "\n" + "".join(f"{r}\n" for r in self.records))
        self.exists = True


def _read_keywords(maildir: Path) -> dict[int, str]:
    """dovecot-keywords: "<index> <keyword>" per line."""
    keywords: dict[int, str] = {}
    try:
        text = (maildir / KEYWORDS).read_text(encoding="utf-8")
    except FileNotFoundError:
        return keywords
    for line in text.splitlines():
        index, _sep, keyword = line.strip().partition(" ")
        if index.isdigit() and keyword:
            keywords[int(index)] = keyword
    return keywords


@contextmanager
def _dotlock(path: Path) -> Iterator[None]:
    """Dovecot's dotlock: <file>.lock created exclusively; the new content is renamed over."""
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            break
        except FileExistsError:
            with suppress(FileNotFoundError):
                if time.time() - lock.stat().st_mtime > LOCK_STALE_SECONDS:
                    lock.unlink()  # left behind by a crashed writer
                    continue
            if time.monotonic() > deadline:
                raise SourceError(f"{lock} is held by another process") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            lock.unlink()


def _write_locked(path: Path, text: str) -> None:
    """Replace a file atomically (write a sibling, fsync, rename); the caller holds the lock."""
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _rename(source: Path, target: Path) -> None:
    try:
        os.rename(source, target)
    except FileNotFoundError:
        message = f"{source.name} vanished from {source.parent} before it was marked"
        raise SourceError(message) from None


class _NotRegular(OSError):
    """The path is a symbolic link or not a regular file."""


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, never through a symbolic link (O_NOFOLLOW, then fstat)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _NotRegular("a symbolic link") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _NotRegular("not a regular file")
        return handle.read()


def _safe_name(name: str) -> bool:
    """A name that can go into dovecot-uidlist as it is: UTF-8, printable, no spaces."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates by os.scandir
        return False
    return name.isprintable() and " " not in name


def _printable(name: str) -> str:
    """A file name for a log line: undecodable bytes and control characters escaped."""
    return ascii(os.fsencode(name))[2:-1][:120]


def _name_time(unique: str) -> int | None:
    """The delivery time in epoch seconds that a Maildir unique name starts with, if any."""
    head = unique.split(".", 1)[0]
    return int(head) if head.isdigit() and 0 < int(head) < 2**33 else None


def _received(entry: _Entry) -> datetime:
    seconds = _name_time(entry.unique)
    if seconds is None:
        seconds = int(entry.path.stat().st_mtime)
    return datetime.fromtimestamp(seconds, tz=UTC)
