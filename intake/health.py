"""Service health: each mailbox pass recorded, and the status `intake status` and metrics report."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.config import Settings
from intake.store.models import Case, MailboxHealth, Message, OutboxItem

log = logging.getLogger(__name__)

OK, DEGRADED, DOWN = 0, 1, 2
STATE_NAMES = {OK: "ok", DEGRADED: "degraded", DOWN: "down"}
OUTBOX_STATES = ("pending", "sending", "retrying", "sent", "failed", "uncertain")
ERROR_MAX = 500


def record_pass(
    sessions: sessionmaker[Session],
    mailbox_key: str,
    started: datetime,
    error: str | None,
    worker: str,
    failures_degraded: int,
) -> int:
    """Note one pass over a mailbox (success when `error` is None); returns the failure count.

    Crossing `failures_degraded` failures in a row logs an error once; a success after it logs
    the recovery. Never raises: a database that is down is logged by the caller already.
    """
    now = datetime.now(UTC)
    try:
        with sessions() as session, session.begin():
            row = session.get(MailboxHealth, mailbox_key, with_for_update=True)
            if row is None:
                row = MailboxHealth(mailbox_key=mailbox_key, consecutive_failures=0)
                session.add(row)
            before = row.consecutive_failures or 0
            row.last_attempt_at = now
            row.last_duration_seconds = (now - started).total_seconds()
            row.worker = worker[:120]
            if error is None:
                row.last_success_at = now
                row.consecutive_failures = 0
            else:
                row.consecutive_failures = before + 1
                row.last_error = error[:ERROR_MAX]
            count = row.consecutive_failures
    except Exception as exc:  # the database itself: status reports it as down
        log.warning("mailbox health not recorded",
                    extra={"mailbox": mailbox_key, "error": type(exc).__name__})
        return -1
    if error is not None and count == failures_degraded:
        log.error("mailbox failing", extra={"mailbox": mailbox_key, "failures": count,
                                            "error": error[:200]})
    elif error is None and before >= failures_degraded:
        log.warning("mailbox recovered", extra={"mailbox": mailbox_key, "failures": before})
    return count


@dataclass
class MailboxStatus:
    key: str
    state: str
    last_success_at: str | None
    last_attempt_at: str | None
    consecutive_failures: int
    last_error: str | None
    problem: str | None = None


@dataclass
class Status:
    """What `intake status` prints; `code` is the exit code (0 ok, 1 degraded, 2 down)."""

    code: int
    state: str
    database: dict[str, Any]
    mailboxes: list[MailboxStatus] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    quarantined_last_day: int = 0
    open_cases: int = 0
    oldest_due: str | None = None
    overdue: int = 0
    rules_version: str | None = None
    model_version: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def collect_status(settings: Settings, now: datetime | None = None) -> Status:
    """The health of the service as seen from its database (no mail server is contacted)."""
    from intake.store.db import current_revision, head_revision, make_engine, make_session_factory

    now = now or datetime.now(UTC)
    head = head_revision()
    status = Status(code=OK, state="ok", database={"revision": None, "head": head},
                    rules_version=rules_version(settings.rules_dir),
                    model_version=model_version(settings.model_dir))
    try:
        engine = make_engine(settings.database.url)
        revision = current_revision(engine)
    except Exception as exc:
        status.database["error"] = _db_error(exc)
        status.problems.append(f"database unreachable: {status.database['error']}")
        return _finish(status, DOWN)
    status.database["revision"] = revision
    if revision != head:
        status.problems.append(f"database at revision {revision or 'none'}, code needs {head}: "
                               "run `intake db upgrade`")
        engine.dispose()
        return _finish(status, DOWN)
    worst = OK
    try:
        with make_session_factory(engine)() as session:
            worst = max(worst, _mailboxes(session, settings, now, status))
            worst = max(worst, _outbox(session, status))
            _cases(session, now, status)
    finally:
        engine.dispose()
    return _finish(status, worst)


def _finish(status: Status, code: int) -> Status:
    status.code, status.state = code, STATE_NAMES[code]
    return status


def _stale_after(settings: Settings) -> timedelta:
    """A mailbox not read successfully for this long means the worker is not doing its job."""
    return timedelta(seconds=max(3 * settings.run.poll_seconds, 300))


def _mailboxes(session: Session, settings: Settings, now: datetime, status: Status) -> int:
    rows = {r.mailbox_key: r for r in session.scalars(select(MailboxHealth))}
    worst, stale_after, fresh = OK, _stale_after(settings), 0
    for mailbox in settings.mailboxes:
        row = rows.get(mailbox.key)
        entry = MailboxStatus(
            key=mailbox.key, state="ok",
            last_success_at=_iso(row.last_success_at) if row else None,
            last_attempt_at=_iso(row.last_attempt_at) if row else None,
            consecutive_failures=row.consecutive_failures if row else 0,
            last_error=row.last_error if row and row.consecutive_failures else None,
        )
        if row is None or row.last_attempt_at is None:
            entry.state, entry.problem = "down", "never polled: is the worker running?"
        elif entry.consecutive_failures >= settings.run.failures_degraded:
            entry.state = "degraded"
            entry.problem = f"{entry.consecutive_failures} failed passes in a row"
        elif row.last_success_at is None or now - row.last_success_at > stale_after:
            entry.state = "down"
            entry.problem = f"no successful pass for more than {int(stale_after.total_seconds())} s"
        else:
            fresh += 1
        if entry.problem:
            status.problems.append(f"mailbox {mailbox.key}: {entry.problem}")
        status.mailboxes.append(entry)
        worst = max(worst, {"ok": OK, "degraded": DEGRADED, "down": DEGRADED}[entry.state])
    if settings.mailboxes and fresh == 0 and all(m.state == "down" for m in status.mailboxes):
        return DOWN  # no mailbox is read at all: the service is down, whatever systemd says
    return worst


def _outbox(session: Session, status: Status) -> int:
    counts = dict(session.execute(
        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
    status.outbox = {state: int(counts.get(state, 0)) for state in OUTBOX_STATES}
    for state, number in counts.items():
        status.outbox.setdefault(state, int(number))
    worst = OK
    for state in ("failed", "uncertain"):
        if status.outbox.get(state):
            status.problems.append(
                f"outbox: {status.outbox[state]} {state} (see docs/operations.md)")
            worst = DEGRADED
    return worst


def _cases(session: Session, now: datetime, status: Status) -> None:
    status.quarantined = int(session.scalar(
        select(func.count()).select_from(Message).where(Message.status == "quarantined")) or 0)
    status.quarantined_last_day = int(session.scalar(
        select(func.count()).select_from(Message).where(
            Message.status == "quarantined", Message.received_at >= now - timedelta(days=1))) or 0)
    legal = select(Case).where(Case.status != "closed", Case.due_date.is_not(None))
    status.open_cases = int(session.scalar(
        select(func.count()).select_from(Case).where(Case.status != "closed")) or 0)
    oldest = session.scalar(legal.with_only_columns(func.min(Case.due_date)))
    status.oldest_due = oldest.isoformat() if oldest else None
    today = now.date()
    status.overdue = int(session.scalar(
        select(func.count()).select_from(Case).where(
            Case.status != "closed", Case.due_date < today)) or 0)


def rules_version(rules_dir: str) -> str | None:
    """A short digest of the rule files: two workers with the same rules print the same."""
    root = Path(rules_dir)
    if not root.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def model_version(model_dir: str) -> str | None:
    """The trained model's corpus digest and architecture, from its meta.json."""
    try:
        meta = json.loads((Path(model_dir) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    corpus = str(meta.get("corpus") or meta.get("corpus_digest") or "")[:12]
    return f"{meta.get('arch', '?')}:{corpus}" if corpus else str(meta.get("arch", "?"))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _db_error(exc: BaseException) -> str:
    """One line, no password: the driver's own words when there are some."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
