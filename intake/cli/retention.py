"""`intake retention [--dry-run] [--json]`: purge cases and mail past their mailbox's retention."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=(
        "Delete cases closed longer ago than their mailbox's retention_years, with their "
        "messages, outbox items and events, and mail without a case received that long ago. "
        "One anonymous audit event per case remains."))
    p.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.add_argument("--as", dest="actor", metavar="NAME", default="intake",
                   help="who purges, for the audit trail (default: intake)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from intake.cases.retention import purge_expired
    from intake.store.db import DatabaseNotReady, ensure_current, make_engine, make_session_factory

    try:
        settings = settings_from_args(args)
        engine = make_engine(settings.database.url)
        ensure_current(engine)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with make_session_factory(engine)() as session, session.begin():
        report = purge_expired(session, settings, datetime.now(UTC), dry_run=args.dry_run,
                               actor=args.actor)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    for key, cutoff in report.cutoffs.items():
        print(f"{key}: cases closed and mail received before {cutoff}")
    for case in report.cases:
        print(f"  {verb} {case.reference} ({case.kind}, {case.outcome}, closed {case.closed_on})")
    for key, statuses in report.loose_messages.items():
        counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        print(f"  {verb} {key}: messages without a case: {counts}")
    rows = ", ".join(f"{n} {table}" for table, n in sorted(report.rows.items())) or "nothing"
    print(f"{verb}: {len(report.cases)} case(s); rows: {rows}")
    return 0
