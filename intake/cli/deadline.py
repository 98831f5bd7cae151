"""`intake deadline`: print the legal due date of a request received at a given moment."""

from __future__ import annotations

import argparse
import json

from intake.cases.deadlines import Calendar, due_date, extended_due_date
from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError


def register(
    sub: argparse._SubParsersAction, name: str, help_text: str, common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        name, help=help_text, parents=[common],
        description="Print the due date (YYYY-MM-DD) under GDPR Art. 12(3) and Reg. 1182/71.",
    )
    p.add_argument("received", metavar="RECEIVED",
                   help="receipt date or date-time in ISO form; Europe/Brussels unless it has an "
                        "offset (then converted to Brussels time)")
    p.add_argument("--mailbox", metavar="KEY",
                   help="use this mailbox's extra holidays from the settings file "
                        "(default: Belgian legal holidays plus 11 July)")
    p.add_argument("--extended", action="store_true",
                   help="the due date after the two-month extension (three months from receipt)")
    p.add_argument("--json", action="store_true", help="one JSON object saying how it was reached")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.mailbox:
        try:
            mailbox = settings_from_args(args).mailbox(args.mailbox)
            calendar = Calendar(mailbox.extra_holidays)
        except ConfigError as exc:
            return fail(str(exc))
        except ValueError as exc:  # an extra holiday that is no date, e.g. "02-30"
            return fail(f"mailbox {args.mailbox!r}: {exc}")
    else:
        calendar = Calendar.default()
    compute = extended_due_date if args.extended else due_date
    try:
        result = compute(args.received, calendar)
    except ValueError as exc:
        return fail(f"RECEIVED: {exc}")
    if args.json:
        print(json.dumps({
            **result.to_json(),
            "mailbox": args.mailbox,
            "calendar": calendar.describe(),
        }, ensure_ascii=False))
    else:
        print(result.due.isoformat())
    return 0
