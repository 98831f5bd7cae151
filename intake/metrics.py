"""Prometheus metrics: the worker's own counters, and gauges read from the database per scrape."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.config import Settings
from intake.store.models import Case, MailboxHealth, Message, OutboxItem

log = logging.getLogger(__name__)
_POLL_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)
_TRIAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30)


class Metrics:
    """The worker's counters, in their own registry (tests build as many as they like)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("intake_messages", "Messages recorded, by mailbox and outcome",
                                ["mailbox", "disposition"], registry=r)
        self.cases_opened = Counter("intake_cases_opened", "Cases opened from mail",
                                    ["mailbox"], registry=r)
        self.acknowledgements = Counter(
            "intake_replies", "Replies handed to SMTP, by result (sent/failed/uncertain/retried)",
            ["result"], registry=r)
        self.polls = Counter("intake_polls", "Mailbox passes, by result (ok, failed)",
                             ["mailbox", "result"], registry=r)
        self.poll_seconds = Histogram("intake_poll_duration_seconds",
                                      "Wall time of one mailbox pass", ["mailbox"],
                                      buckets=_POLL_BUCKETS, registry=r)
        self.triage_seconds = Histogram("intake_triage_duration_seconds",
                                        "Wall time of the triage of one message",
                                        buckets=_TRIAGE_BUCKETS, registry=r)
        self.triaged = Counter("intake_triaged", "Messages triaged, by whether they were flagged "
                               "for review", ["needs_review"], registry=r)

    def watch_database(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        """Add the gauges read from the database at each scrape (outbox, deadlines, health)."""
        self.registry.register(DatabaseCollector(settings, sessions))

    def observe_pass(self, mailbox: str, seconds: float, ok: bool,
                     dispositions: dict[str, int] | None = None, cases_opened: int = 0) -> None:
        self.polls.labels(mailbox, "ok" if ok else "failed").inc()
        self.poll_seconds.labels(mailbox).observe(seconds)
        for disposition, count in (dispositions or {}).items():
            self.messages.labels(mailbox, disposition).inc(count)
        if cases_opened:
            self.cases_opened.labels(mailbox).inc(cases_opened)

    def observe_flush(self, sent: int, failed: int, uncertain: int, retried: int) -> None:
        for result, count in (("sent", sent), ("failed", failed), ("uncertain", uncertain),
                              ("retried", retried)):
            if count:
                self.acknowledgements.labels(result).inc(count)

    def observe_triage(self, seconds: float, needs_review: bool) -> None:
        self.triage_seconds.observe(seconds)
        self.triaged.labels("true" if needs_review else "false").inc()

    def serve(self, listen: str) -> Any:
        """Start the HTTP endpoint on HOST:PORT (a daemon thread); returns the server."""
        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(int(port), addr=host, registry=self.registry)
        log.info("metrics endpoint listening", extra={"listen": listen})
        return server

    def write_textfile(self, path: str) -> None:
        """Write all metrics for node-exporter's textfile collector (atomically)."""
        from prometheus_client import write_to_textfile

        write_to_textfile(path, self.registry)


class DatabaseCollector(Collector):
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("intake_database_up", "1 when the database answered this scrape")
        try:
            families = list(self._from_database())
        except Exception as exc:
            log.warning("metrics: database not readable", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_database(self) -> Iterator[GaugeMetricFamily]:
        now = datetime.now(UTC)
        with self.sessions() as session:
            outbox = GaugeMetricFamily("intake_outbox_items", "Outbox rows by status",
                                       labels=["status"])
            for status, count in session.execute(
                    select(OutboxItem.status, func.count()).group_by(OutboxItem.status)):
                outbox.add_metric([status], count)
            yield outbox

            quarantined = GaugeMetricFamily("intake_quarantined_messages",
                                            "Messages kept in quarantine")
            quarantined.add_metric([], session.scalar(
                select(func.count()).select_from(Message)
                .where(Message.status == "quarantined")) or 0)
            yield quarantined

            oldest = session.scalar(select(func.min(Case.due_date)).where(
                Case.status != "closed", Case.due_date.is_not(None)))
            due = GaugeMetricFamily(
                "intake_oldest_open_due_days",
                "Days from today to the earliest legal due date of an open case "
                "(negative: overdue); absent when no case runs")
            if oldest is not None:
                due.add_metric([], (oldest - now.date()).days)
            yield due

            failures = GaugeMetricFamily("intake_mailbox_consecutive_failures",
                                         "Failed passes in a row, per mailbox", labels=["mailbox"])
            success = GaugeMetricFamily("intake_mailbox_last_success_timestamp_seconds",
                                        "When a pass last succeeded, per mailbox",
                                        labels=["mailbox"])
            for row in session.scalars(select(MailboxHealth)):
                failures.add_metric([row.mailbox_key], row.consecutive_failures or 0)
                if row.last_success_at is not None:
                    success.add_metric([row.mailbox_key], row.last_success_at.timestamp())
            yield failures
            yield success
