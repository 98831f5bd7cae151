"""Structured log lines: `time level logger message key=value …` from the record's extra fields."""

from __future__ import annotations

import logging
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


def setup_logging(verbose: bool = False) -> None:
    handler = _StderrHandler()
    handler.addFilter(ThirdPartyFilter())
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("imapclient", "apscheduler.executors.default", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # mail-parser warns about every MIME part it does not render (calendar, DSN): not news.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
