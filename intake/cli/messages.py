"""`intake messages`: every recorded message, whatever became of it; turn one into a case."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from intake.cli.cases import _actor, _day, _open
from intake.cli.common import fail
from intake.config import ConfigError
from intake.rights import RIGHTS
from intake.store.enums import Disposition, values


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", parents=[common], help="recorded messages, newest first")
    ls.add_argument("--mailbox", metavar="KEY")
    ls.add_argument("--disposition", choices=values(Disposition))
    ls.add_argument("--since", type=_day, metavar="DATE", help="received on or after DATE")
    ls.add_argument("--limit", type=int, default=1000)
    ls.add_argument("--json", action="store_true", help="one JSON object per message")
    ls.set_defaults(handler=run_list)
    show = actions.add_parser("show", parents=[common],
                              help="one message and what the triage concluded")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--body", action="store_true", help="include the message text")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)
    oc = actions.add_parser("open-case", parents=[common],
                            help="turn a recorded message without a case into a case "
                                 "(receipt = its INTERNALDATE)")
    oc.add_argument("id", type=int, metavar="ID")
    what = oc.add_mutually_exclusive_group()
    what.add_argument("--rights", metavar="LIST", help=f"a request: {','.join(RIGHTS)}")
    what.add_argument("--question", action="store_true", help="a question (service target)")
    oc.add_argument("--acknowledge", action="store_true",
                    help="queue the acknowledgement to the sender")
    oc.add_argument("--reason", default="", help="why (kept in the audit trail)")
    oc.add_argument("--as", dest="actor", metavar="NAME",
                    help="who does this, for the audit trail (default: the OS user)")
    oc.set_defaults(handler=run_open_case)


def run_list(args: argparse.Namespace) -> int:
    from intake.cases.messages import list_messages
    from intake.store.db import DatabaseNotReady

    try:
        _settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        rows = list_messages(session, args.mailbox, args.disposition, args.since, args.limit)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    header = ("ID", "MAILBOX", "RECEIVED", "DISPOSITION", "CASE", "FROM", "SUBJECT", "REASON")
    table = [header] + [
        (str(r["id"]), r["mailbox"], r["received"][:16].replace("T", " "),
         r["disposition"] or r["status"], r["case"] or "-", r["from"] or "-",
         (r["subject"] or "")[:50], (r["reason"] or "")[:80])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(rows)} message(s)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from intake.cases.messages import message_detail
    from intake.store.db import DatabaseNotReady

    try:
        _settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        detail = message_detail(session, args.id, body=args.body)
    if detail is None:
        return fail(f"no message #{args.id}")
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, indent=2))
        return 0
    for key in ("id", "mailbox", "folder", "uid", "received", "from", "from_name", "subject",
                "message_id", "status", "kind", "disposition", "case", "reason"):
        value = detail[key]
        print(f"{key:>12}: {'-' if value in (None, '') else value}")
    triage = detail["triage"] or {}
    print("      triage:")
    for key in ("kind", "language", "rights", "confidence", "needs_review", "would_acknowledge"):
        if key in triage:
            print(f"        {key}: {triage[key]}")
    for line in triage.get("explanation") or ():
        print(f"        - {line}")
    if "body" in detail:
        print("        body:")
        for line in (detail["body"] or "").splitlines():
            print(f"        | {line}")
    return 0


def run_open_case(args: argparse.Namespace) -> int:
    from intake.cases.manual import open_case
    from intake.cases.operations import parse_rights
    from intake.cases.workflow import WorkflowError
    from intake.store.db import DatabaseNotReady
    from intake.store.enums import CaseKind
    from intake.store.models import Message

    try:
        actor = _actor(args)
        settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady, ValueError) as exc:
        return fail(str(exc))
    now = datetime.now(UTC)
    with sessions() as session:
        try:
            with session.begin():
                message = session.get(Message, args.id)
                if message is None:
                    return fail(f"no message #{args.id}")
                if message.case_id is not None:
                    raise WorkflowError(f"message #{args.id} is already in case "
                                        f"{message.case.reference if message.case else '?'}")
                if message.status == "duplicate":
                    raise WorkflowError(f"message #{args.id} is a duplicate of message "
                                        f"#{message.duplicate_of_id}: open that one")
                mailbox = settings.mailbox(message.mailbox_key)
                rights = parse_rights([args.rights]) if args.rights else []
                kind = (CaseKind.REQUEST if rights else CaseKind.QUESTION if args.question
                        else CaseKind.TO_CLASSIFY)
                reason = f"opened by hand from message #{message.id} ({message.disposition})"
                if args.reason.strip():
                    reason += f"; {args.reason.strip()}"
                opened = open_case(
                    session, mailbox, received=message.received_at,
                    requester_name=message.from_name, requester_address=message.from_address,
                    rights=rights, kind=kind, actor=actor, now=now, reason=reason,
                    message=message, acknowledge=args.acknowledge,
                    language=message.language or "nl",
                )
                case = opened.case
        except ConfigError as exc:
            return fail(str(exc), 2)
        except WorkflowError as exc:
            return fail(str(exc), 1)
    due = f", due {case.due_date}" if case.due_date else ""
    ack = "; acknowledgement queued" if opened.acknowledgement is not None else ""
    print(f"{case.reference}: opened ({case.kind}) from message #{args.id}{due}{ack} "
          f"(by {actor})")
    return 0
