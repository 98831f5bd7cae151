"""The worker: wires settings, database, triage and sources; runs one pass or the scheduled loop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake import faults
from intake.classify.reload import RulesReloader
from intake.config import MailboxSettings, Settings
from intake.outbound.outbox import DeliveryJournal, FlushStats, Transport, flush_outbox
from intake.outbound.transport import open_transport
from intake.processor import LeaseHeld, PassStats, Processor
from intake.source import open_source
from intake.source.base import SourceError
from intake.store.db import ensure_current, make_engine, make_session_factory
from intake.triage import TriagePipeline

log = logging.getLogger(__name__)
SENDER_INTERVAL = 0.5  # seconds between outbox flushes during `run --once`
RULES_CHECK_SECONDS = 10  # how often the daemon looks for changed rule files (and SIGHUP)


@dataclass
class RunReport:
    """What one pass did, per mailbox, and the outbox flush after it."""

    passes: list[PassStats] = field(default_factory=list)
    outbox: FlushStats = field(default_factory=FlushStats)
    errors: dict[str, str] = field(default_factory=dict)  # mailbox key -> why it was not done
    polling_seconds: float = 0.0  # until every mailbox was recorded (replies queued)


class Worker:
    """Everything a running intake needs, built once."""

    def __init__(
        self,
        settings: Settings,
        pipeline: TriagePipeline | None = None,
        processor_kwargs: dict[str, Any] | None = None,
        mailboxes: Sequence[MailboxSettings] | None = None,
    ) -> None:
        self.settings = settings
        # The mailboxes this worker polls (all by default); every configured address stays "ours".
        self.mailboxes = tuple(mailboxes or settings.mailboxes)
        self.engine = make_engine(settings.database.url)
        ensure_current(self.engine)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.pipeline = pipeline or TriagePipeline.from_settings(settings)
        self.rules = RulesReloader(settings.rules_dir, self.pipeline.classifier)
        self.stop = threading.Event()
        options = {"worker_id": f"{socket.gethostname()}:{os.getpid()}", **(processor_kwargs or {})}
        options.setdefault("fault_hook", faults.processor_hook())  # None unless INTAKE_FAULTS
        self.processor = Processor(settings, self.sessions, self.pipeline, **options)
        # The outbox's note of what the SMTP server accepted, on this host (see outbox.py).
        self.journal = DeliveryJournal(settings.run.state_dir, settings.database.url)

    def poll(self, mailbox: MailboxSettings) -> PassStats:
        """One pass over one mailbox; a source failure or a held lease is logged, then raised."""
        try:
            stats = self.processor.process_mailbox(mailbox, open_source(mailbox), self.stop)
        except (SourceError, LeaseHeld) as exc:
            log.error("mailbox not processed", extra={"mailbox": mailbox.key, "error": str(exc)})
            raise
        log.info(
            "mailbox pass done",
            extra={
                "mailbox": mailbox.key,
                "seen": stats.seen,
                "recorded": stats.recorded,
                "duplicates": stats.duplicates,
                "quarantined": stats.quarantined,
                "cases_opened": stats.cases_opened,
            },
        )
        return stats

    def flush(self) -> FlushStats:
        stats = flush_outbox(
            self.sessions, self._transport, self.settings.smtp.max_attempts, stop=self.stop,
            fault_hook=faults.outbox_hook(), journal=self.journal,
        )
        if stats.sent or stats.retried or stats.failed or stats.uncertain:
            log.info("outbox flushed", extra=vars(stats))
        return stats

    def check_rules(self) -> bool:
        """Reload the rules if they changed or SIGHUP asked; True when new rules are active."""
        classifier = self.rules.check()
        if classifier is None:
            return False
        # Messages triaged from now on use the new rules; one in progress finishes with the old.
        self.pipeline.classifier = classifier
        return True

    def _transport(self) -> AbstractContextManager[Transport]:
        return open_transport(self.settings.smtp)

    def run_once(self) -> RunReport:
        """Every mailbox once, then deliver what was queued.

        As in the daemon, the sender runs beside the polling (in a thread), so replies go out
        while later messages are still being recorded; a last flush follows the pass.
        """
        report = RunReport()
        polled = threading.Event()
        sender = threading.Thread(
            target=self._send_while, args=(polled, report.outbox), name="outbox", daemon=True
        )
        sender.start()
        started = time.perf_counter()
        try:
            for mailbox in self.mailboxes:
                if self.stop.is_set():
                    break
                try:
                    report.passes.append(self.poll(mailbox))
                except (SourceError, LeaseHeld) as exc:
                    report.errors[mailbox.key] = str(exc)
                except Exception as exc:  # the database, most likely; the next pass tries again
                    log.exception("mailbox pass failed", extra={"mailbox": mailbox.key})
                    report.errors[mailbox.key] = f"{type(exc).__name__}: {exc}"
        finally:
            report.polling_seconds = time.perf_counter() - started
            polled.set()
            sender.join()
        if not self.stop.is_set():
            report.outbox.add(self.flush())
        return report

    def _send_while(self, polling_done: threading.Event, total: FlushStats) -> None:
        while not polling_done.wait(SENDER_INTERVAL):
            try:
                total.add(self.flush())
            except Exception:
                log.exception("outbox flush failed")

    def run_forever(self) -> None:
        """The scheduled loop: poll each mailbox and flush the outbox on intervals until SIGTERM."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        scheduler = BackgroundScheduler(timezone="Europe/Brussels")
        for mailbox in self.mailboxes:
            scheduler.add_job(
                self._safe_poll,
                "interval",
                args=[mailbox],
                seconds=self.settings.run.poll_seconds,
                id=f"poll-{mailbox.key}",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        scheduler.add_job(
            self.flush,
            "interval",
            seconds=self.settings.run.outbox_seconds,
            id="outbox",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.check_rules,
            "interval",
            seconds=RULES_CHECK_SECONDS,
            id="rules",
            max_instances=1,
            coalesce=True,
        )
        for name, schedule, job in self._daily_jobs():
            scheduler.add_job(
                self._safe_job,
                CronTrigger.from_crontab(schedule, timezone="Europe/Brussels"),
                args=[name, job],
                id=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: self._reload_soon(scheduler))
        scheduler.start()
        _sd_notify("READY=1")
        log.info("intake running", extra={"mailboxes": ",".join(m.key for m in self.mailboxes)})
        self.stop.wait()
        _sd_notify("STOPPING=1")
        log.info("stopping: finishing the batch in hand")
        scheduler.shutdown(wait=True)
        self.engine.dispose()
        log.info("stopped")

    def digests(self) -> list[Any]:
        """Queue the staff digests of this period (never twice), then deliver them."""
        from intake.digest import queue_digests

        with self.sessions() as session, session.begin():
            outcomes = queue_digests(session, self.settings, datetime.now(UTC))
        self.flush()
        return outcomes

    def reminders(self) -> Any:
        """Flag cases near or past their deadlines; alert staff about overdue ones."""
        from intake.reminders import run_reminders

        with self.sessions() as session, session.begin():
            report = run_reminders(session, self.settings, datetime.now(UTC))
        self.flush()
        return report

    def retention(self) -> Any:
        """Purge what is past each mailbox's retention period."""
        from intake.cases.retention import purge_expired

        with self.sessions() as session, session.begin():
            return purge_expired(session, self.settings, datetime.now(UTC), dry_run=False)

    def _daily_jobs(self) -> list[tuple[str, str, Any]]:
        s = self.settings
        return [
            ("reminders", s.reminders.schedule, self.reminders),
            ("digest", s.digest.schedule, self.digests),
            ("retention", s.retention.schedule, self.retention),
        ]

    def _safe_job(self, name: str, job: Any) -> None:
        try:
            job()
        except Exception:
            log.exception("scheduled job failed", extra={"job": name})

    def _reload_soon(self, scheduler: Any) -> None:
        self.rules.request()
        # Fails only while the scheduler shuts down; the request is kept for the next check.
        with contextlib.suppress(Exception):
            scheduler.modify_job("rules", next_run_time=datetime.now(UTC))

    def _safe_poll(self, mailbox: MailboxSettings) -> None:
        try:
            self.poll(mailbox)
        except (SourceError, LeaseHeld):
            pass  # logged in poll(); the next interval tries again
        except Exception:
            log.exception("mailbox pass failed", extra={"mailbox": mailbox.key})


def _sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) about our state; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError as exc:
            log.warning("sd_notify failed", extra={"error": str(exc)})
