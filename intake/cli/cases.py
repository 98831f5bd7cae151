"""`intake cases list|show`: a first look at the cases."""

from __future__ import annotations

import argparse
import json

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError
from intake.rights import RIGHTS


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="list cases, oldest first", parents=[common])
    ls.add_argument("--mailbox", metavar="KEY")
    ls.add_argument("--status", choices=["open", "awaiting_identity", "closed"])
    ls.add_argument("--right", choices=RIGHTS)
    ls.add_argument("--json", action="store_true", help="one JSON object per case")
    ls.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="one case with its timeline", parents=[common])
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)


def _sessions(args: argparse.Namespace):
    from intake.cases.db import ensure_current, make_engine, make_session_factory

    engine = make_engine(settings_from_args(args).database.url)
    ensure_current(engine)
    return make_session_factory(engine)


def run_list(args: argparse.Namespace) -> int:
    from intake.cases.db import DatabaseNotReady
    from intake.cases.queries import list_cases

    try:
        sessions = _sessions(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        lines = list_cases(session, args.mailbox, args.status, args.right)
    if args.json:
        for line in lines:
            print(json.dumps(line.to_json(), ensure_ascii=False))
        return 0
    print(format_case_table(lines))
    return 0


def format_case_table(lines) -> str:
    """A fixed-width table of cases for a terminal."""
    header = ("REFERENCE", "MAILBOX", "KIND", "RIGHTS", "IDENTITY", "RECEIVED", "DUE", "STATUS")
    rows = [header]
    for c in lines:
        if c.kind == "request":
            due = c.due.isoformat() if c.due else "-"
            due += " (suspended)" if c.suspended else ""
        else:
            due = f"target {c.target.isoformat()}" if c.target else "-"
        rows.append((c.reference, c.mailbox, c.kind, ",".join(c.rights) or "-", c.identity,
                     c.received.strftime("%Y-%m-%d %H:%M"), due,
                     c.status + (" [review]" if c.needs_review else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    out.append(f"{len(lines)} case(s)")
    return "\n".join(out)


def run_show(args: argparse.Namespace) -> int:
    from intake.cases.db import DatabaseNotReady
    from intake.cases.queries import case_detail

    try:
        sessions = _sessions(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        detail = case_detail(session, args.reference)
    if detail is None:
        return fail(f"no case {args.reference}", 1)
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, indent=2))
        return 0
    for key in ("reference", "mailbox", "kind", "status", "rights", "identity", "requester",
                "requester_name", "language", "received", "due", "target", "clock_suspended_on",
                "suspended_days_left", "extended", "needs_review", "review_reason"):
        print(f"{key:>20}: {detail[key]}")
    print("timeline:")
    for e in detail["events"]:
        print(f"  {e['at']}  {e['type']:<26} {e['actor']:<8} {e['reason']}")
    print("messages:")
    for m in detail["messages"]:
        print(f"  #{m['id']} {m['received']} {m['kind']:<9} {m['from']}  {m['subject']}")
    print("outbox:")
    for o in detail["outbox"]:
        print(f"  #{o['id']} {o['purpose']} to {o['to']}: {o['status']} (attempts {o['attempts']})"
              + (f" error: {o['last_error']}" if o["last_error"] else ""))
    return 0
