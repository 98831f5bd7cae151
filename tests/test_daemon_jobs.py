"""The daemon's daily jobs (reminders, digests, retention) end to end: database, outbox, SMTP."""

from __future__ import annotations

import email
from dataclasses import replace
from email import policy

from sqlalchemy import func, select

from intake.config import DatabaseSettings
from intake.daemon import Worker
from intake.store.models import DigestRun, OutboxItem
from tests import casefactory as cf


def test_daily_jobs_mail_staff_once(db, pipeline, smtp_server):
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)  # as of June 2026: by now every running request is overdue
    settings = replace(cf.settings(), database=DatabaseSettings(db.url),
                       smtp=smtp_server.settings())
    worker = Worker(settings, pipeline=pipeline)
    try:
        assert [name for name, _, _ in worker._daily_jobs()] == ["reminders", "digest",
                                                                  "retention"]
        worker.reminders()
        alerts = smtp_server.wait_for(1)
        subjects = [email.message_from_bytes(m.data, policy=policy.default)["Subject"]
                    for m in alerts]
        assert any(refs["overdue"] in s for s in subjects)

        before = len(smtp_server.received)
        worker.digests()
        digests = [email.message_from_bytes(m.data, policy=policy.default)
                   for m in smtp_server.wait_for(before + 4)[before:]]
        assert {m["To"] for m in digests} >= {cf.STAFF_AGO, cf.STAFF_WSE, cf.DIGEST_TO}
        assert all(m["Message-ID"].startswith("<digest.") for m in digests)

        worker.reminders()  # the same day again: no second alert, no second digest
        worker.digests()
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.purpose == "digest")) == 4
            assert session.scalar(select(func.count()).select_from(DigestRun).where(
                DigestRun.kind == "digest")) == 2 + 1  # ago, wse, and the fixture's earlier one
        report = worker.retention()
        assert report.dry_run is False
    finally:
        worker.engine.dispose()
