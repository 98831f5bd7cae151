"""Structured logs: `time level logger message key=value …` on a terminal, native journald
records (priority per level, one field per extra) under systemd."""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import sys

from intake.store.masking import mask_numbers

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# Loggers whose records never quote mail: ours (they follow the logging rules) and the
# scheduler's and migrations'. Every other library may put header values, addresses or body text
# in its messages (mail-parser does, at ERROR), so above DEBUG only its logger name, level and
# exception type are kept; the full record is logged at DEBUG for someone debugging.
TRUSTED_LOGGERS = ("intake", "alembic", "apscheduler")
WITHHELD_LOGGER = "intake.logs.withheld"


class KeyValueFormatter(logging.Formatter):
    """Appends the `extra={...}` fields of a record as key=value pairs (values quoted if needed).

    Every national register number and eID card number in the line is masked.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if fields:
            line += " " + " ".join(f"{k}={_quote(v)}" for k, v in fields.items())
        return mask_numbers(line)


def _trusted(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TRUSTED_LOGGERS)


class ThirdPartyFilter(logging.Filter):
    """Other libraries' records above DEBUG lose their text: no header, address or body leaks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or _trusted(record.name):
            return True
        withheld = logging.getLogger(WITHHELD_LOGGER)
        if withheld.isEnabledFor(logging.DEBUG):
            # The original, for a person debugging (DEBUG is off in normal operation).
            withheld.debug("%s %s: %s", record.name, record.levelname, _original(record),
                           exc_info=record.exc_info)
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        record.msg = "log text withheld (it may quote mail)"
        record.args = None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        for key in [k for k in vars(record) if k not in _STANDARD]:
            delattr(record, key)
        if exc_type:
            record.exception = exc_type
        return True


def _original(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a library's broken format string
        return str(record.msg)


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record (tests swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


JOURNAL_SOCKET = "/run/systemd/journal/socket"
# syslog priorities (journald's PRIORITY field) per logging level
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
             logging.DEBUG: 7}
# extra fields with a journald name of their own (the rest are upper-cased)
_FIELD_NAMES = {"mailbox": "MAILBOX", "case": "CASE_REF", "uid": "MESSAGE_UID",
                "folder": "IMAP_FOLDER"}
_FIELD_RE = re.compile(r"[^A-Z0-9_]")


def journal_field(name: str) -> str:
    """A journald field name for an extra: upper case, [A-Z0-9_], not starting with _ or a digit."""
    field = _FIELD_NAMES.get(name) or _FIELD_RE.sub("_", name.upper()).lstrip("_")
    if not field or field[0].isdigit():
        field = "X_" + field
    return field[:64]


def _priority(levelno: int) -> int:
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


class JournalHandler(logging.Handler):
    """Sends each record to journald over its native protocol: MESSAGE (the key=value line,
    without a timestamp: journald keeps its own), PRIORITY, and one field per extra
    (MAILBOX, CASE_REF, MESSAGE_UID, …). Falls back to stderr when the socket refuses."""

    def __init__(self, address: str = JOURNAL_SOCKET, identifier: str = "intake") -> None:
        super().__init__()
        self.address = address
        self.identifier = identifier
        self.setFormatter(KeyValueFormatter("%(name)s %(message)s"))
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            payload = self.payload(record)
            self._sock.sendto(payload, self.address)
        except OSError:
            sys.stderr.write(f"<{_priority(record.levelno)}>{self.format(record)}\n")
        except Exception:
            self.handleError(record)

    def payload(self, record: logging.LogRecord) -> bytes:
        fields: list[tuple[str, str]] = [
            ("MESSAGE", self.format(record)),
            ("PRIORITY", str(_priority(record.levelno))),
            ("SYSLOG_IDENTIFIER", self.identifier),
            ("LOGGER", record.name),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", str(record.lineno)),
            ("CODE_FUNC", record.funcName),
        ]
        for name, value in vars(record).items():
            if name not in _STANDARD:
                fields.append((journal_field(name), mask_numbers(str(value))))
        return b"".join(_journal_pair(k, v) for k, v in fields)

    def close(self) -> None:
        self._sock.close()
        super().close()


def _journal_pair(name: str, value: str) -> bytes:
    data = value.encode("utf-8", "replace")
    if b"\n" in data:  # the binary form: name, newline, 64-bit little-endian length, data
        return name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return name.encode() + b"=" + data + b"\n"


def under_journald(environ: dict[str, str] | None = None) -> bool:
    """True when stderr is connected to journald (systemd sets JOURNAL_STREAM=dev:inode)."""
    env = environ if environ is not None else os.environ
    stream = env.get("JOURNAL_STREAM", "")
    if not stream or ":" not in stream:
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return stream == f"{st.st_dev}:{st.st_ino}"


class SkippedRunFilter(logging.Filter):
    """Drops APScheduler's warning that a job asked to run now is still running: the daemon asks
    for that on purpose (an IDLE wake-up, a pass that recorded mail, a second worker standing
    by) and runs the job once more when it ends (intake.daemon._run_soon); a job that hangs is
    the watchdog's to report."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_skipped_run_filter = SkippedRunFilter()


def setup_logging(verbose: bool = False) -> None:
    handler: logging.Handler
    if under_journald() and os.path.exists(JOURNAL_SOCKET):
        handler = JournalHandler()
    else:
        handler = _StderrHandler()
        handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(ThirdPartyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("imapclient", "apscheduler.executors.default", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if _skipped_run_filter not in scheduler_log.filters:
        scheduler_log.addFilter(_skipped_run_filter)
    # mail-parser warns about every MIME part it does not render (calendar, DSN): not news.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
