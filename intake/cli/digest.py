"""`intake digest --preview | --send`: the staff digest now, shown or queued as the job would."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from intake.cli.common import fail, settings_with_mailboxes
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        name, help=help_text, parents=[common],
        description="Show the staff digest now (--preview: nothing is sent or recorded), or queue "
                    "it as the scheduled job does (--send: never twice for a mailbox and day).",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true",
                      help="print the text digest; nothing is sent or recorded")
    mode.add_argument("--send", action="store_true",
                      help="record and queue the digest, then deliver the outbox")
    p.add_argument("--mailbox", metavar="KEY",
                   help="only this mailbox's digest (default: every digest the settings define)")
    p.add_argument("--html", metavar="FILE",
                   help="with --preview: also write the HTML version to FILE")
    p.add_argument("--at", metavar="WHEN",
                   help="with --preview: as of this ISO date or date-time (Europe/Brussels)")
    p.add_argument("--force", action="store_true",
                   help="with --send: send an empty digest too (it is still sent only once)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from intake.cases.deadlines import to_brussels
    from intake.digest.collect import ALL
    from intake.store.db import DatabaseNotReady, ensure_current, make_engine, make_session_factory

    try:
        settings = settings_with_mailboxes(args)
        if args.mailbox:
            settings.mailbox(args.mailbox)  # an unknown key fails here, with the known ones
        engine = make_engine(settings.database.url)
        ensure_current(engine)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    if args.send and (args.html or args.at):
        return fail("--html and --at go with --preview")
    try:
        now = to_brussels(args.at) if args.at else datetime.now(UTC)
    except ValueError as exc:
        return fail(f"--at: {exc}")
    sessions = make_session_factory(engine)
    try:
        if args.preview:
            scopes = [args.mailbox] if args.mailbox else (
                [ALL] if settings.digest.combined else [m.key for m in settings.mailboxes])
            return _preview(sessions, settings, scopes, now, args.html)
        return _send(sessions, settings, args.mailbox, now, args.force)
    finally:
        engine.dispose()


def _preview(sessions, settings, scopes: list[str], now: datetime, html_file: str | None) -> int:
    from intake.digest import collect_digest, render_digest

    with sessions() as session:
        digests = [collect_digest(session, settings, scope, now) for scope in scopes]
        session.rollback()  # a preview records nothing
    for n, digest in enumerate(digests):
        subject, text, html = render_digest(digest, settings.digest.language,
                                            base_url=settings.web.base_url)
        if n:
            print("\n" + "=" * 78 + "\n")
        print(f"Subject: {subject}\n")
        print(text, end="")
        if html_file:
            path = Path(html_file)
            if len(digests) > 1:
                path = path.with_name(f"{path.stem}.{digest.scope}{path.suffix or '.html'}")
            path.write_text(html, encoding="utf-8")
            print(f"\n(HTML written to {path})")
    return 0


def _send(sessions, settings, mailbox: str | None, now: datetime, force: bool) -> int:
    from intake.digest import queue_digests
    from intake.outbound.outbox import flush_outbox
    from intake.outbound.transport import open_transport

    scopes = None
    if mailbox:
        if settings.digest.combined:
            return fail("[digest] combined = true: there is one digest for all mailboxes; "
                        "leave out --mailbox")
        scopes = [mailbox]
    with sessions() as session, session.begin():
        outcomes = queue_digests(session, settings, now, force=force, scopes=scopes)
    for o in outcomes:
        detail = {
            "queued": f"queued for {', '.join(o.recipients)}",
            "empty": "nothing to report: recorded, not sent (--force sends it anyway)",
            "already_sent": "already recorded for this day: not sent again",
            "no_recipients": "no staff address ([digest] to or the mailbox's staff): not sent",
        }[o.status]
        print(f"{o.scope} {o.period}: {detail}")
    if any(o.status == "queued" for o in outcomes):
        stats = flush_outbox(sessions, lambda: open_transport(settings.smtp),
                             settings.smtp.max_attempts)
        print(f"outbox: {stats.sent} sent, {stats.retried} to retry, {stats.failed} failed"
              + (f"; mail server: {stats.transport_error}" if stats.transport_error else "")
              + ("; the running worker's sender delivers it" if stats.busy else ""))
    return 1 if any(o.status == "no_recipients" for o in outcomes) else 0
