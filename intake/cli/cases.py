"""`intake cases …`: list, show and change cases (each change an audited event); the register."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError, Settings
from intake.rights import RIGHTS
from intake.store.enums import LEGAL_CLOCK_KINDS

STATUSES = ("open", "awaiting_identity", "closed")
OUTCOMES = ("answered", "refused", "withdrawn", "forwarded")
PROOF = ("id_copy", "verified_signature")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--as", dest="actor", metavar="NAME",
                     help="who does this, for the audit trail (default: the OS user)")

    def action(name: str, help_text: str, handler: Callable, changes: bool = True,
               reference: bool = True) -> argparse.ArgumentParser:
        parents = [common, who] if changes else [common]
        parser = actions.add_parser(name, help=help_text, description=help_text, parents=parents)
        if reference:
            parser.add_argument("reference", metavar="REF", help="case reference")
        parser.set_defaults(handler=handler)
        return parser

    ls = action("list", "list cases, oldest first", run_list, changes=False, reference=False)
    ls.add_argument("--mailbox", metavar="KEY")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--right", choices=RIGHTS)
    ls.add_argument("--due-before", type=_day, metavar="DATE",
                    help="legal due date on or before DATE (YYYY-MM-DD)")
    ls.add_argument("--needs-review", action="store_true", help="only cases flagged for review")
    ls.add_argument("--kind", choices=("request", "question", "to_classify"),
                    help="only cases of this kind (to_classify: the fail-safe cases)")
    ls.add_argument("--json", action="store_true", help="one JSON object per case")

    show = action("show", "one case: clock, timeline, messages, outbox", run_show, changes=False)
    show.add_argument("--json", action="store_true")
    show.add_argument("--body", action="store_true", help="include the message texts")

    assign = action("assign", "make a person responsible for the case", run_assign)
    assign.add_argument("person")
    note = action("note", "add a note to the case's timeline", run_note)
    note.add_argument("text")
    op = action("open", "open a case by hand: a request by post, phone or at the counter "
                "(same references, clock, register and audit as mail)", run_open_manual,
                reference=False)
    op.add_argument("--mailbox", required=True, metavar="KEY")
    op.add_argument("--received", required=True, type=_moment, metavar="DATE",
                    help="when it reached the controller (ISO date or datetime, Brussels)")
    op.add_argument("--requester", required=True, metavar='"NAME <ADDRESS>"',
                    help="the requester; the address may be left out for a letter")
    op.add_argument("--rights", required=True, metavar="LIST",
                    help=f"comma-separated: {','.join(RIGHTS)}")
    op.add_argument("--file", metavar="SCAN",
                    help="a scanned letter or ID copy: checked for identity, not kept")
    op.add_argument("--channel", default="post", choices=("post", "phone", "counter", "mail"))
    op.add_argument("--language", default="nl", choices=("nl", "fr", "en", "de"))
    op.add_argument("--acknowledge", action="store_true",
                    help="queue the acknowledgement to the requester's address")
    op.add_argument("--reason", default="", help="a note for the audit trail")
    rc = action("reclassify", "say what the case is: a request (its rights), a question, or "
                "(a case to classify only) no case; clears needs-review", run_reclassify)
    what = rc.add_mutually_exclusive_group(required=True)
    what.add_argument("--rights", metavar="LIST",
                      help=f"comma-separated, empty for a question: {','.join(RIGHTS)}")
    what.add_argument("--question", action="store_true",
                      help="a question or remark: no legal clock, the service target applies")
    what.add_argument("--no-case", action="store_true",
                      help="a case to classify that is nobody's request: closed with --reason")
    rc.add_argument("--reason", default="", help="why (required with --no-case)")
    ident = action("identity", "proof of identity came by post or at the desk: the clock runs "
                   "on and the requester gets the new due date", run_identity)
    ident.add_argument("--received", required=True, metavar="HOW",
                       help='how it came, e.g. "copy of ID card by post"')
    ident.add_argument("--on", type=_day, metavar="DATE", help="the day it came (default today)")
    ident.add_argument("--status", choices=PROOF, default="id_copy")
    ext = action("extend", "extend by two months (Art. 12(3) GDPR) and notify the requester",
                 run_extend)
    ext.add_argument("--reason", required=True, help="the reasons, sent to the requester")
    cl = action("close", "close the case with its outcome", run_close)
    cl.add_argument("--outcome", required=True, choices=OUTCOMES)
    cl.add_argument("--reason", default="", help="required for a refusal (Art. 12(4) GDPR)")
    ro = action("reopen", "open a closed case again", run_reopen)
    ro.add_argument("--reason", required=True)

    qu = action("quarantine", "quarantined messages and their reasons, messages in flight",
                _run_quarantine, changes=False, reference=False)
    qu.add_argument("--mailbox", metavar="KEY")
    qu.add_argument("--json", action="store_true")
    rs = action("resend", "send again the case's replies whose delivery is uncertain or failed "
                "(check first that they did not arrive)", run_resend)
    rs.add_argument("--outbox", type=int, metavar="ID", help="only this reply (see `cases show`)")
    rs.add_argument("--reason", default="", help="what was checked (optional)")

    ex = action("export", "the register of requests (no personal data), for Art. 5(2)",
                run_export, changes=False, reference=False)
    ex.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    ex.add_argument("--from", dest="date_from", type=_day, metavar="DATE",
                    help="received on or after DATE")
    ex.add_argument("--to", dest="date_to", type=_day, metavar="DATE",
                    help="received on or before DATE")
    ex.add_argument("--mailbox", metavar="KEY")
    ex.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")


def _moment(text: str) -> datetime:
    """An ISO date or datetime; Brussels time when no offset is given (a date: its start)."""
    from intake.store.timezone import BRUSSELS

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or datetime (ISO)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)


def _open(args: argparse.Namespace) -> tuple[Settings, Any]:
    from intake.store.db import ensure_current, make_engine, make_session_factory

    settings = settings_from_args(args)
    engine = make_engine(settings.database.url)
    ensure_current(engine)
    return settings, make_session_factory(engine)


def run_list(args: argparse.Namespace) -> int:
    from intake.cases.queries import list_cases
    from intake.store.db import DatabaseNotReady

    try:
        _settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        lines = list_cases(session, args.mailbox, args.status, args.right,
                           due_before=args.due_before, needs_review=args.needs_review,
                           kind=args.kind)
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
        if c.kind in LEGAL_CLOCK_KINDS:
            due = c.due.isoformat() if c.due else "-"
            due += " (suspended)" if c.suspended else ""
        else:
            due = f"target {c.target.isoformat()}" if c.target else "-"
        status = c.status + (f" ({c.outcome})" if c.outcome else "")
        status += f" @{c.assignee}" if c.assignee else ""
        status += " [review]" if c.needs_review else ""
        rows.append((c.reference, c.mailbox, c.kind, ",".join(c.rights) or "-", c.identity,
                     c.received.strftime("%Y-%m-%d %H:%M"), due, status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    out.append(f"{len(lines)} case(s)")
    return "\n".join(out)


def run_show(args: argparse.Namespace) -> int:
    from intake.cases.queries import case_detail
    from intake.store.db import DatabaseNotReady

    try:
        _settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        detail = case_detail(session, args.reference, bodies=args.body)
    if detail is None:
        return fail(f"no case {args.reference!r}")
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, indent=2))
        return 0
    print(format_case_detail(detail))
    return 0


def format_case_detail(detail: dict[str, Any]) -> str:
    """The case for a terminal: summary, clock, timeline, messages, outbox."""
    out = []
    for key in ("reference", "mailbox", "kind", "status", "outcome", "rights", "identity",
                "requester", "requester_name", "language", "assignee", "needs_review",
                "review_reason"):
        value = detail[key]
        value = ", ".join(value) if isinstance(value, list) else value
        out.append(f"{key:>15}: {'-' if value in (None, '') else value}")
    clock = detail["clock"]
    out.append("clock:")
    out.append(f"  received {clock['received']}")
    if clock["legal_clock"]:
        out.append(f"  due {clock['due']}" + (" (suspended, waiting for proof of identity, "
                                              f"{detail['suspended_days_left']} days left)"
                                              if detail["clock_suspended"] else ""))
    else:
        out.append(f"  no legal clock (question); service target {clock['target']}")
    for s in clock["suspensions"]:
        out.append(f"  suspended {s['from']} -> {s['to'] or 'now'}")
    if clock["extension"]:
        e = clock["extension"]
        out.append(f"  extended on {e['on']} by {e['by']}: {e['reason']}")
    if clock["closed"]:
        late = {True: "on time", False: "LATE", None: ""}[detail["on_time"]]
        out.append(f"  closed {clock['closed']} ({detail['outcome']}) {late}".rstrip())
    out.append("timeline:")
    for e in detail["events"]:
        out.append(f"  {e['at']}  {e['type']:<28} {e['actor']:<10} {e['reason']}")
    out.append("messages:")
    for m in detail["messages"]:
        out.append(f"  #{m['id']} {m['received']} {m['kind'] or '-':<9} {m['from']}  "
                   f"{m['subject']}")
        out.append(f"      identity: {m['identity'].get('status', 'none')}")
        for ev in m["identity"].get("evidence", []):
            found = [ev.get("type"), ev.get("document"), ev.get("side"), ev.get("masked_number"),
                     ev.get("signer")]
            flags = [name for name in ("valid", "trusted", "qualified") if ev.get(name)]
            where = f" in {ev['attachment']}" if ev.get("attachment") else ""
            out.append(f"        - {' '.join(str(f) for f in found if f)}{where}"
                       + (f" [{', '.join(flags)}]" if flags else ""))
        if "body" in m:
            out.extend(f"      | {line}" for line in (m["body"] or "").splitlines())
    out.append("outbox:")
    for o in detail["outbox"]:
        out.append(f"  #{o['id']} {o['created']} {o['purpose']} to {o['to']}: {o['status']} "
                   f"(attempts {o['attempts']})"
                   + (f" error: {o['last_error']}" if o["last_error"] else ""))
        if o.get("sent_copy"):
            out.append(f"      copy in Sent folder: {o['sent_copy']}")
        if o.get("subject") is not None:
            out.append(f"      subject: {o['subject']}")
            out.extend(f"      | {line}" for line in o["text"].splitlines())
    return "\n".join(out)


# --- changes ------------------------------------------------------------------------------


def _actor(args: argparse.Namespace) -> str:
    name = (getattr(args, "actor", None) or "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            raise ValueError("no user name found: say who you are with --as NAME") from None
    if len(name) > 120:
        raise ValueError("--as NAME is at most 120 characters")
    return name


def _change(args: argparse.Namespace, operation: Callable[..., str]) -> int:
    """Run one operation on one case in one transaction and report it.

    Exit 2: no such case or a settings/database problem; exit 1: the change is not allowed
    (the message gives the legal reason). A refused extension is still recorded in the trail.
    """
    from intake.cases.operations import CaseNotFound, ExtensionRefused, find_case
    from intake.cases.workflow import WorkflowError
    from intake.store.db import DatabaseNotReady

    try:
        actor = _actor(args)
        settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady, ValueError) as exc:
        return fail(str(exc))
    now = datetime.now(UTC)
    refused: ExtensionRefused | None = None
    with sessions() as session:
        try:
            with session.begin():
                case = find_case(session, args.reference)
                mailbox = settings.mailbox(case.mailbox_key)
                try:
                    report = operation(session, case, mailbox, actor, now)
                except ExtensionRefused as exc:
                    refused = exc  # commit the `extension_refused` event, then report it
        except (CaseNotFound, ConfigError) as exc:
            return fail(str(exc), 2)
        except WorkflowError as exc:
            return fail(str(exc), 1)
    if refused is not None:
        return fail(str(refused), 1)
    print(f"{case.reference}: {report} (by {actor})")
    return 0


def run_assign(args: argparse.Namespace) -> int:
    from intake.cases.operations import assign

    def op(session, case, _mailbox, actor, _now) -> str:
        assign(session, case, args.person, actor)
        return f"assigned to {case.assignee}"

    return _change(args, op)


def run_note(args: argparse.Namespace) -> int:
    from intake.cases.operations import add_note

    def op(session, case, _mailbox, actor, _now) -> str:
        add_note(session, case, args.text, actor)
        return "note added"

    return _change(args, op)


def run_reclassify(args: argparse.Namespace) -> int:
    from intake.cases.operations import parse_rights, reclassify

    def op(session, case, mailbox, actor, now) -> str:
        rights = [] if args.question or args.no_case else parse_rights([args.rights])
        reclassify(session, case, mailbox, rights, actor, now, args.reason, no_case=args.no_case)
        if args.no_case:
            return "no case: closed (no_case), the legal clock cancelled"
        report = f"rights {', '.join(rights) or 'none'} ({case.kind})"
        if case.kind == "request":
            report += f", due {case.due_date}"
            missing = set(mailbox.identity_required_for) & set(rights)
            if missing and case.identity_status not in PROOF:
                report += "; proof of identity is needed and was not asked for: ask for it"
        return report

    return _change(args, op)


def run_open_manual(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intake.cases.manual import check_scan, open_case, parse_requester
    from intake.cases.operations import parse_rights
    from intake.cases.workflow import WorkflowError
    from intake.store.db import DatabaseNotReady
    from intake.store.enums import CaseKind

    try:
        actor = _actor(args)
        settings, sessions = _open(args)
        mailbox = settings.mailbox(args.mailbox)
    except (ConfigError, DatabaseNotReady, ValueError) as exc:
        return fail(str(exc))
    now = datetime.now(UTC)
    try:
        rights = parse_rights([args.rights])
        if not rights:
            raise WorkflowError("name at least one right (a question is not opened by hand)")
        name, address = parse_requester(args.requester)
        identity = None
        if args.file:
            from intake.identity import build_checker

            identity = check_scan(Path(args.file), build_checker(settings))
        reason = f"opened by hand: request received by {args.channel}"
        if args.reason.strip():
            reason += f"; {args.reason.strip()}"
        with sessions() as session, session.begin():
            opened = open_case(
                session, mailbox, received=args.received, requester_name=name,
                requester_address=address, rights=rights, kind=CaseKind.REQUEST, actor=actor,
                now=now, reason=reason, identity=identity, acknowledge=args.acknowledge,
                language=args.language,
            )
            case = opened.case
            report = (f"{case.reference}: opened (request: {', '.join(rights)}), "
                      f"received {args.received.date()}, ")
            report += ("clock suspended until proof of identity"
                       if case.clock_suspended_on else f"due {case.due_date}")
            report += f"; identity {case.identity_status}"
            if opened.acknowledgement is not None:
                report += "; acknowledgement queued"
    except WorkflowError as exc:
        return fail(str(exc), 1)
    print(f"{report} (by {actor})")
    return 0


def run_identity(args: argparse.Namespace) -> int:
    from intake.cases.operations import brussels_day, receive_identity

    def op(session, case, mailbox, actor, now) -> str:
        on = args.on or brussels_day(now)
        item = receive_identity(session, case, mailbox, on, args.received, actor, now,
                                status=args.status)
        if item is None:
            return f"proof of identity noted ({args.status}); the clock was not waiting for it"
        return f"clock runs again, due {case.due_date}; confirmation queued to the requester"

    return _change(args, op)


def run_extend(args: argparse.Namespace) -> int:
    from intake.cases.operations import extend_case

    def op(session, case, mailbox, actor, now) -> str:
        due, _item = extend_case(session, case, mailbox, args.reason, actor, now)
        when = f"new due date {due}" if due else "new due date once the proof of identity is in"
        return f"extended by two months, {when}; extension notice queued to the requester"

    return _change(args, op)


def run_close(args: argparse.Namespace) -> int:
    from intake.cases.operations import close_case

    def op(session, case, _mailbox, actor, now) -> str:
        close_case(session, case, args.outcome, args.reason, actor, now)
        timing = "" if case.due_date is None else (" on time" if case.on_time else " LATE")
        return f"closed ({args.outcome}) on {case.answered_on}{timing}"

    return _change(args, op)


def run_reopen(args: argparse.Namespace) -> int:
    from intake.cases.operations import reopen

    def op(session, case, _mailbox, actor, _now) -> str:
        reopen(session, case, args.reason, actor)
        return f"reopened ({case.status})"

    return _change(args, op)


def run_resend(args: argparse.Namespace) -> int:
    from intake.cases.operations import resend

    def op(session, case, _mailbox, actor, now) -> str:
        rows = resend(session, case, actor, now, args.reason, args.outbox)
        listed = ", ".join(f"{r.purpose} {r.id} (was {before})" for r, before in rows)
        return f"queued again: {listed}; the worker sends it at its next outbox run"

    return _change(args, op)


# --- register -----------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    from intake.cases.register import register_rows, write_register
    from intake.store.db import DatabaseNotReady

    if args.date_from and args.date_to and args.date_from > args.date_to:
        return fail("--from is after --to")
    try:
        settings, sessions = _open(args)
        if args.mailbox:
            settings.mailbox(args.mailbox)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        rows = register_rows(session, settings, args.date_from, args.date_to, args.mailbox)
        if not args.out:
            write_register(rows, sys.stdout, args.format)
            return 0
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                count = write_register(rows, out, args.format)
        except OSError as exc:
            return fail(f"cannot write {args.out}: {exc.strerror}")
    print(f"{count} case(s) written to {args.out}", file=sys.stderr)
    return 0


def _run_quarantine(args: argparse.Namespace) -> int:
    from intake.cli.quarantine import run_quarantine

    return run_quarantine(args)
