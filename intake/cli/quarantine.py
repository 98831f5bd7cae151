"""`intake cases quarantine`: quarantined messages with their reasons and their case to classify,
and messages in flight."""

from __future__ import annotations

import argparse
import json

from sqlalchemy import select

from intake.cli.common import fail
from intake.config import ConfigError


def run_quarantine(args: argparse.Namespace) -> int:
    from intake.cli.cases import _open
    from intake.inflight import crash_report
    from intake.store.db import DatabaseNotReady
    from intake.store.models import Case, Message
    from intake.store.timezone import BRUSSELS

    try:
        _settings, sessions = _open(args)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with sessions() as session:
        query = (select(Message, Case.reference).outerjoin(Case, Case.id == Message.case_id)
                 .where(Message.status == "quarantined").order_by(Message.id))
        if args.mailbox:
            query = query.where(Message.mailbox_key == args.mailbox)
        quarantined = [
            {"message": m.id, "mailbox": m.mailbox_key, "folder": m.folder, "uid": m.uid,
             "received": m.received_at.astimezone(BRUSSELS).isoformat(timespec="minutes"),
             "reason": m.quarantine_reason or "", "case": reference}
            for m, reference in session.execute(query)
        ]
        report = crash_report(session, args.mailbox)
    flying = [
        {"mailbox": m.mailbox_key, "folder": m.folder, "uid": m.uid, "attempts": m.attempts,
         "started": m.started_at.astimezone(BRUSSELS).isoformat(timespec="seconds"),
         "worker": m.worker}
        for m in report.in_flight
    ]
    if args.json:
        print(json.dumps({"quarantined": quarantined, "in_flight": flying}, ensure_ascii=False))
        return 0
    print(f"Quarantined messages: {len(quarantined)}")
    for q in quarantined:
        print(f"  #{q['message']:<6} {q['mailbox']:<8} {q['folder']} uid {q['uid']:<6} "
              f"{q['received']}  {q['case'] or 'no case'}  {q['reason']}")
    print(f"Messages in flight (a worker is reading them, or died while reading): {len(flying)}")
    for f in flying:
        print(f"  {f['mailbox']:<8} {f['folder']} uid {f['uid']:<6} attempts {f['attempts']}  "
              f"since {f['started']}  {f['worker']}")
    return 0
