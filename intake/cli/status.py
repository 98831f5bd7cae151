"""`intake status`: is the service healthy? For people and for monitoring checks (exit 0/1/2)."""

from __future__ import annotations

import argparse
import json

from intake.cli.common import fail, settings_with_mailboxes
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text,
                       epilog="exit status: 0 ok, 1 degraded, 2 down (or settings unusable)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    from intake.health import collect_status

    try:
        settings = settings_with_mailboxes(args)
    except ConfigError as exc:
        return fail(str(exc))
    status = collect_status(settings)
    if args.json:
        print(json.dumps(status.to_json(), ensure_ascii=False))
        return status.code
    print(f"intake: {status.state.upper()}")
    db = status.database
    print(f"  database: revision {db.get('revision') or '-'} (code needs {db.get('head')})"
          + (f"; error: {db['error']}" if db.get("error") else ""))
    for m in status.mailboxes:
        line = (f"  mailbox {m.key}: {m.state}; last success {m.last_success_at or 'never'}; "
                f"failures in a row {m.consecutive_failures}")
        if m.last_error:
            line += f"; last error: {m.last_error}"
        print(line)
    if status.outbox:
        shown = ", ".join(f"{k} {v}" for k, v in status.outbox.items() if k != "sent" and v)
        print(f"  outbox: {shown or 'nothing waiting'} (sent {status.outbox.get('sent', 0)})")
    print(f"  cases open: {status.open_cases}; overdue: {status.overdue}; "
          f"earliest due date: {status.oldest_due or '-'}")
    print(f"  quarantined messages: {status.quarantined} ({status.quarantined_last_day} in the "
          "last 24 h)")
    print(f"  rules {status.rules_version or 'missing'}; model {status.model_version or 'missing'}")
    for problem in status.problems:
        print(f"  problem: {problem}")
    return status.code
