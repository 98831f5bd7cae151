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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake import faults
from intake.classify.labels import DEFAULT_LANGUAGE, LANGUAGES
from intake.config import MailboxSettings, Settings
from intake.health import record_pass
from intake.metrics import Metrics
from intake.outbound.outbox import (
    DeliveryJournal,
    FlushStats,
    SentLookup,
    Transport,
    flush_outbox,
    resolve_uncertain,
)
from intake.outbound.transport import open_transport
from intake.processor import LeaseHeld, PassStats, Processor
from intake.service import Watchdog, sd_notify, watchdog_interval
from intake.source import open_source
from intake.source.base import SourceError
from intake.startup import DeferredPipeline
from intake.store.db import (
    ensure_current,
    make_engine,
    make_session_factory,
    private_directory,
)
from intake.store.locks import locks_for_sessions
from intake.store.timezone import BRUSSELS
from intake.triage import TriagePipeline

if TYPE_CHECKING:
    from intake.classify.reload import RulesReloader

log = logging.getLogger(__name__)
SENDER_INTERVAL = 0.5  # seconds between outbox flushes during `run --once`
RULES_CHECK_SECONDS = 10  # how often the daemon looks for changed rule files (and SIGHUP)
MAX_REPOLLS = 5  # passes in a row when wake-ups keep arriving during a pass
# A worker that finds a folder held by another live worker (a second `intake run`, e.g. the
# systemd template's other instance) checks the folder's lock this often until it is free, then
# makes a pass: the other worker finished its pass, or died in it (its lock died with it).
STANDBY_CHECK_SECONDS = 0.5
# The rules of the other languages are built once the worker has caught up with its mail (a
# round of passes that found nothing new), or this long after the start: building them costs
# ~5 s of CPU, which would slow a backlog's messages while they are in flight (issue 13).
WARM_UP_AFTER_SECONDS = 900.0
# How long a stopping worker waits for a classifier build in hand (one language: seconds).
BUILD_JOIN_SECONDS = 60.0
# Uncertain replies are looked for in the Sent folder again this often, for this long.
SENT_CHECK_SECONDS = 300
SENT_CHECK_HOURS = 24


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
        started = time.perf_counter()
        self.settings = settings
        # The mailboxes this worker polls (all by default); every configured address stays "ours".
        self.mailboxes = tuple(mailboxes or settings.mailboxes)
        self.stop = threading.Event()
        self.caught_up = threading.Event()  # a pass of every mailbox found nothing new
        self.warmed = False  # every language's rules are built (the warm-up ran)
        self._idle: set[str] = set()  # mailboxes whose last pass found nothing new
        self.rules: RulesReloader | None = None  # once the pipeline is there
        self._reload_requested = False  # SIGHUP before there was a reloader
        self.pipeline_error: BaseException | None = None  # why the pipeline could not be built
        self.pipeline: TriagePipeline | DeferredPipeline
        if pipeline is not None:
            self.pipeline = pipeline
            self._rules_seen = None
        else:
            self.pipeline, self._rules_seen = self._load_pipeline()
        private_directory(Path(settings.run.state_dir))
        self.engine = make_engine(settings.database.url)
        ensure_current(self.engine)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        options = {
            "worker_id": f"{socket.gethostname()}:{os.getpid()}",
            "triage_deadline": settings.run.triage_deadline_seconds or None,
            **(processor_kwargs or {}),
        }
        options.setdefault("fault_hook", faults.processor_hook())  # None unless INTAKE_FAULTS
        self.processor = Processor(settings, self.sessions, self.pipeline, **options)
        self.metrics = Metrics()
        self.metrics.watch_database(settings, self.sessions)
        self.processor.observe_triage = self.metrics.observe_triage
        self.watchdog = Watchdog(settings.run.stuck_poll_seconds)
        self.last_pass: dict[str, datetime] = {}
        self._wanted_events: dict[str, threading.Event] = {}
        self._wanted_lock = threading.Lock()
        self._scheduler_guard = threading.RLock()
        self._shutting_down = False
        self.idle_watchers: list[Any] = []
        # The outbox's note of what the SMTP server accepted, on this host (see outbox.py).
        self.journal = DeliveryJournal(settings.run.state_dir, settings.database.url)
        # Where a reply left uncertain by a dead sender is looked for (the Sent folders).
        self.sent_lookup = sent_lookup(settings)
        log.debug("worker set up", extra={"seconds": round(time.perf_counter() - started, 2),
                                          "pipeline_ready": self.pipeline_ready()})

    def _load_pipeline(self) -> tuple[DeferredPipeline, Any]:
        """Read and check the rules now (a bad rule file stops the start, as it always did),
        then build the triage pipeline in a background thread: spaCy, the trained model and the
        matchers take seconds, which the worker spends connecting and taking up its mailboxes."""
        from intake.classify.reload import fingerprint
        from intake.classify.rules import load_rules
        from intake.classify.thresholds import load_thresholds

        settings = self.settings
        seen = fingerprint(settings.rules_dir)  # before reading: a change from now on is seen
        rules = load_rules(settings.rules_dir)  # RuleError here fails `intake run` at once
        thresholds = load_thresholds(settings.rules_dir)

        def build() -> TriagePipeline:
            return TriagePipeline.from_settings(settings, eager=False,
                                                rules=(rules, thresholds))

        return DeferredPipeline(build, on_error=self._pipeline_failed,
                                on_ready=self._pipeline_loaded), seen

    def _pipeline_loaded(self) -> None:
        """A STATUS line without "classifier loading": `systemctl status` (and bench/chaos.py)
        see that this worker triages now, e.g. which instance of two is still starting."""
        try:
            line = self.status_line()
        except Exception:  # built before the worker's set-up ended (a test's fast build)
            line = "classifier loaded"
        sd_notify("STATUS=" + line)

    def _pipeline_failed(self, exc: BaseException) -> None:
        self.pipeline_error = exc
        self.stop.set()  # nothing can be triaged: stop, and let the service manager say so

    def pipeline_ready(self) -> bool:
        """Whether messages can be triaged without waiting for the pipeline to load."""
        deferred = self.pipeline
        return not isinstance(deferred, DeferredPipeline) or deferred.ready()

    def poll(self, mailbox: MailboxSettings) -> PassStats:
        """One pass over one mailbox; a source failure or a held lease is logged, then raised.

        A folder held by another live worker is no failure (two workers are a deployment: the
        other one is in its pass) and is not noted in the health. Every other pass is noted in
        the mailbox's health (status, metrics, digest) and watched by the watchdog, so a pass
        that hangs stops the systemd watchdog pings.
        """
        started, clock = datetime.now(UTC), time.perf_counter()
        self.watchdog.started(f"poll-{mailbox.key}")
        error: str | None = None
        held_elsewhere = False
        try:
            stats = self.processor.process_mailbox(mailbox, open_source(mailbox), self.stop)
        except LeaseHeld as exc:
            held_elsewhere = exc.lock_name is not None
            if exc.lock_name is None:  # this worker lost its lock: an error
                error = str(exc)
                log.error("mailbox not processed", extra={"mailbox": mailbox.key, "error": error})
            else:  # another live worker is in a pass: routine with two workers, not a failure
                log.debug("mailbox held by another worker",
                          extra={"mailbox": mailbox.key, "error": str(exc)})
            raise
        except SourceError as exc:
            error = str(exc)
            log.error("mailbox not processed", extra={"mailbox": mailbox.key, "error": error})
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.watchdog.finished(f"poll-{mailbox.key}")
            seconds = time.perf_counter() - clock
            if error is not None:
                self.metrics.observe_pass(mailbox.key, seconds, ok=False)
            if not held_elsewhere:
                record_pass(self.sessions, mailbox.key, started, error,
                            self.processor.worker_id, self.settings.run.failures_degraded)
        self.metrics.observe_pass(mailbox.key, seconds, ok=True, dispositions=stats.dispositions,
                                  cases_opened=stats.cases_opened)
        self.last_pass[mailbox.key] = datetime.now(UTC)
        if stats.seen:
            self._idle.discard(mailbox.key)
        else:
            self._note_idle(mailbox)
        # An empty pass is routine (every poll interval): debug, so the journal keeps the news.
        level = logging.INFO if stats.seen or stats.quarantined else logging.DEBUG
        log.log(
            level,
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

    def _note_idle(self, mailbox: MailboxSettings) -> None:
        """Nothing new for this worker in the mailbox; once so for all, it has caught up."""
        self._idle.add(mailbox.key)
        if all(m.key in self._idle for m in self.mailboxes):
            self.caught_up.set()

    def flush(self) -> FlushStats:
        stats = flush_outbox(
            self.sessions, self._transport, self.settings.smtp.max_attempts, stop=self.stop,
            resolver=self.sent_lookup, fault_hook=faults.outbox_hook(), journal=self.journal,
        )
        self.metrics.observe_flush(stats.sent, stats.failed, stats.uncertain, stats.retried)
        if stats.sent or stats.retried or stats.failed or stats.uncertain:
            log.info("outbox flushed", extra=vars(stats))
        return stats

    def check_rules(self) -> bool:
        """Reload the rules if they changed or SIGHUP asked; True when new rules are active.

        Until the pipeline is loaded there is nothing to reload; a SIGHUP meanwhile is kept."""
        if self.rules is None:
            if not self.pipeline_ready() or self.pipeline_error is not None:
                return False
            from intake.classify.reload import RulesReloader
            from intake.triage import rules_cache_dir

            self.rules = RulesReloader(self.settings.rules_dir, self.pipeline.classifier,
                                       seen=self._rules_seen,
                                       cache_dir=rules_cache_dir(self.settings))
            if self._reload_requested:
                self.rules.request()
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
            self._safe_job("sent-copy", self.copy_sent)
        return report

    def check_uncertain(self) -> int:
        """Look again for the replies left uncertain in the last SENT_CHECK_HOURS (a server
        may file its copy in Sent a little later, or was down at the first look); how many
        were found and are now sent. Never sends anything."""
        if self.sent_lookup is None:
            return 0
        now = datetime.now(UTC)
        found = resolve_uncertain(self.sessions, self.sent_lookup, now,
                                  since=now - timedelta(hours=SENT_CHECK_HOURS))
        if found:
            log.info("uncertain replies found in the Sent folder", extra={"resolved": found})
        return found

    def copy_sent(self) -> Any:
        """Store copies of sent replies in each mailbox's Sent folder (sent_folder)."""
        from intake.outbound.sentcopy import copy_sent_replies

        return copy_sent_replies(self.sessions, self.settings)

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

        scheduler = BackgroundScheduler(timezone=BRUSSELS)
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
            self._flush_job,
            "interval",
            seconds=self.settings.run.outbox_seconds,
            id="outbox",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self._safe_job,
            "interval",
            args=["sent-copy", self.copy_sent],
            seconds=self.settings.run.outbox_seconds,
            id="sent-copy",
            max_instances=1,
            coalesce=True,
        )
        if self.sent_lookup is not None:
            scheduler.add_job(
                self._safe_job,
                "interval",
                args=["sent-check", self.check_uncertain],
                seconds=SENT_CHECK_SECONDS,
                id="sent-check",
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
                CronTrigger.from_crontab(schedule, timezone=BRUSSELS),
                args=[name, job],
                id=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        interval = watchdog_interval()
        if interval:
            scheduler.add_job(self.ping_watchdog, "interval", seconds=interval, id="watchdog",
                              max_instances=1, coalesce=True)
        if self.settings.metrics.textfile:
            scheduler.add_job(self._write_metrics, "interval", seconds=60, id="metrics",
                              max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if self.settings.metrics.listen:
            self.metrics.serve(self.settings.metrics.listen)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: self._reload_soon(scheduler))
        scheduler.start()
        self._scheduler = scheduler
        self._start_idle_watchers()
        warm_up = threading.Thread(target=self._warm_up, name="warm-up", daemon=True)
        warm_up.start()
        sd_notify("READY=1\nSTATUS=" + self.status_line())
        log.info("intake running", extra={"mailboxes": ",".join(m.key for m in self.mailboxes),
                                          "pipeline_ready": self.pipeline_ready()})
        self.stop.wait()
        sd_notify("STOPPING=1")
        log.info("stopping: finishing the batch in hand")
        with self._scheduler_guard:
            self._shutting_down = True  # no job asks the scheduler for anything from here on
        scheduler.shutdown(wait=True)
        for watcher in self.idle_watchers:
            watcher.join(timeout=5)  # each checks the stop flag every second
        # spaCy must not be building matchers in another thread while the interpreter exits
        # (it crashed with SIGSEGV): let the loader and the warm-up finish the language in hand.
        warm_up.join(timeout=BUILD_JOIN_SECONDS)
        if isinstance(self.pipeline, DeferredPipeline):
            with contextlib.suppress(Exception):  # a failed build is raised just below
                self.pipeline.wait(timeout=BUILD_JOIN_SECONDS)
        self.engine.dispose()
        if self.pipeline_error is not None:
            raise self.pipeline_error  # `intake run` says why and exits non-zero
        log.info("stopped")

    def _warm_up(self) -> None:
        """Build what the start left for later (the rules of the other languages) once the
        worker has caught up with its mail, so that it does not slow that mail down."""
        self.caught_up.wait(WARM_UP_AFTER_SECONDS)
        if self.stop.is_set():
            return
        try:
            started = time.perf_counter()
            pipeline = self.pipeline.wait()
            for language in (DEFAULT_LANGUAGE, *(x for x in LANGUAGES if x != DEFAULT_LANGUAGE)):
                if self.stop.is_set():  # one language at a time, so a stop is not held up
                    return
                pipeline.classifier.warm([language])
            log.debug("warmed up", extra={"seconds": round(time.perf_counter() - started, 2)})
            self.warmed = True
            sd_notify("STATUS=" + self.status_line())
        except Exception:
            log.exception("warm-up failed: languages are built when first needed")

    def status_line(self) -> str:
        """The one line `systemctl status` shows: mailboxes, last pass, outbox backlog."""
        from sqlalchemy import func, select

        from intake.store.models import OutboxItem

        last = max(self.last_pass.values(), default=None)
        when = last.astimezone(BRUSSELS).strftime("%H:%M") if last else "not yet"
        try:
            with self.sessions() as session:
                pending = session.scalar(select(func.count()).select_from(OutboxItem).where(
                    OutboxItem.status.in_(("pending", "retrying")))) or 0
            outbox = f"outbox {pending} pending"
        except Exception:
            outbox = "database unreachable"
        if not self.pipeline_ready():
            classifier = ", classifier loading"
        elif not self.warmed:
            classifier = ", classifier partly built"  # other languages: when idle or needed
        else:
            classifier = ""
        return f"{len(self.mailboxes)} mailboxes, last poll {when}, {outbox}{classifier}"

    def ping_watchdog(self) -> bool:
        """WATCHDOG=1 with a fresh STATUS line, unless a pass is stuck."""
        self.watchdog.status_line = self.status_line()
        return self.watchdog.ping()

    def _write_metrics(self) -> None:
        try:
            self.metrics.write_textfile(self.settings.metrics.textfile)
        except OSError as exc:
            log.warning("metrics file not written", extra={"error": str(exc)})

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
        if self.rules is None:
            self._reload_requested = True  # the reloader does not exist yet: for when it does
        else:
            self.rules.request()
        # Not while the scheduler shuts down; the request is kept for the next check.
        self._modify_job("rules")

    def _safe_poll(self, mailbox: MailboxSettings) -> None:
        wanted = self._wanted(f"poll-{mailbox.key}")
        for _ in range(MAX_REPOLLS):
            wanted.clear()  # a wake-up from now on asks for one more pass
            try:
                stats = self.poll(mailbox)
            except LeaseHeld as exc:
                if exc.lock_name is not None:
                    # That mail is the other worker's: nothing to catch up with here, so the
                    # warm-up may run now, and a take-over (whose messages a worker died on are
                    # read with every language built) will not have to wait for it.
                    self._note_idle(mailbox)
                # Another live worker is in a pass: stand by on its lock, so that if it dies
                # in the pass its mail is taken over at once, not at the next interval. A
                # worker still loading its classifier first finishes that: it would otherwise
                # take the folder the moment the other's pass ends and hold it, with mail,
                # until it can triage.
                if (exc.lock_name is None or not self._until_pipeline_ready()
                        or not self._stand_by(mailbox, exc.lock_name)):
                    return
                continue
            except SourceError:
                return  # logged in poll(); the next interval tries again
            except (OperationalError, InterfaceError) as exc:
                # The database is down: one line per pass (no traceback); status says down.
                log.error("mailbox pass failed: database unavailable",
                          extra={"mailbox": mailbox.key, "error": _first_line(exc)})
                return
            except Exception:
                log.exception("mailbox pass failed", extra={"mailbox": mailbox.key})
                return
            if stats.recorded:
                self._run_soon("outbox")  # acknowledge now, not at the next outbox interval
            if not wanted.is_set() or self.stop.is_set():
                return

    def _until_pipeline_ready(self) -> bool:
        """Wait for the classifier to be loaded; False when stopping or it failed to load."""
        while not self.pipeline_ready():
            if self.stop.wait(0.2):
                return False
        return self.pipeline_error is None

    def _stand_by(self, mailbox: MailboxSettings, lock_name: str) -> bool:
        """Wait while another live worker holds a folder of this mailbox; True once the lock is
        free (that worker ended its pass, or died), False when stopping or on a database error.

        Checked with a try-and-release of the lock: cheap with flock, one short connection with
        PostgreSQL. The wait is outside the pass, so the watchdog does not count it."""
        locks = locks_for_sessions(self.sessions)
        while not self.stop.wait(STANDBY_CHECK_SECONDS):
            try:
                lock = locks.try_acquire(lock_name)
            except Exception as exc:  # the database is down: the next interval tries again
                log.warning("mailbox lock not checked",
                            extra={"mailbox": mailbox.key, "error": _first_line(exc)})
                return False
            if lock is not None:
                lock.release()
                log.debug("mailbox free again", extra={"mailbox": mailbox.key})
                return True
        return False

    def _flush_job(self) -> None:
        wanted = self._wanted("outbox")
        for _ in range(MAX_REPOLLS):
            wanted.clear()
            if self.flush().sent:
                self._run_soon("sent-copy")
            if not wanted.is_set() or self.stop.is_set():
                return

    def _wanted(self, job_id: str) -> threading.Event:
        with self._wanted_lock:
            return self._wanted_events.setdefault(job_id, threading.Event())

    def _run_soon(self, job_id: str) -> None:
        """Run a scheduled job now; if it is running, it runs once more when done."""
        self._wanted(job_id).set()
        self._modify_job(job_id)

    def _modify_job(self, job_id: str) -> None:
        """Move a job's next run to now, unless the scheduler is being shut down.

        APScheduler's shutdown(wait=True) holds its job-store lock while it waits for running
        jobs, so a job asking for another (a pass that recorded mail wakes the sender) would
        wait for that lock forever and the worker would never stop. The guard makes "not
        stopping, so modify" and "stopping from now on" exclusive (re-entrant: SIGHUP's handler
        runs on the main thread)."""
        scheduler = getattr(self, "_scheduler", None)
        if scheduler is None:
            return
        with self._scheduler_guard:
            if self._shutting_down:
                return
            with contextlib.suppress(Exception):  # no such job (e.g. in a test)
                scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    def _start_idle_watchers(self) -> None:
        """One IDLE watcher per IMAP mailbox ([run] idle = true), waking the mailbox's poll."""
        from intake.idle import IdleWatcher

        if not self.settings.run.idle:
            return
        for mailbox in self.mailboxes:
            if mailbox.imap is None:
                continue
            watcher = IdleWatcher(
                mailbox, lambda key=mailbox.key: self._run_soon(f"poll-{key}"), self.stop
            )
            watcher.start()
            self.idle_watchers.append(watcher)


def sent_lookup(settings: Settings) -> SentLookup | None:
    """The Sent-folder lookup of the mailboxes that have a sent_folder, or None if none has."""
    from intake.outbound.sentcheck import ImapSentLookup

    lookup = ImapSentLookup(settings.mailboxes)
    return lookup if lookup.configured() else None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return ((str(orig).strip().splitlines() or [type(orig).__name__])[0])[:300]
