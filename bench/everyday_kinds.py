"""Benchmark: triage kind accuracy and near misses opened on the writers' everyday TRAIN YAML.

    .venv/bin/python bench/everyday_kinds.py [SOURCE_DIR] [--writers w1,w2] [--no-model] [--show]

Reads the writers' YAML (default /work/everyday, writers w1 and w2 = the train split; never
point it at w3/w4 while tuning), builds a plain e-mail per message (From, To, Subject, Date,
the writer's extra headers, the body; attachments are left out, so a request that lives only in
an attached message counts as missed) and runs the same pure triage as the daemon. Prints kind
accuracy (request / other / followup / robot; the writers' "question" counts as "other"), the
share of non-requests opened as requests and the requests that get no right.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SOURCE = Path("/work/everyday")
ROBOT_KINDS = ("auto_reply", "bounce", "bulk")


def load(source: Path, writers: list[str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for writer in writers:
        for path in sorted((source / writer).glob("*.yaml")):
            items += [item for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []
                      if isinstance(item, dict) and "id" in item]
    return items


def as_email(item: dict[str, Any]) -> bytes:
    """The message as a plain-text e-mail (no attachments)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = str(item.get("from") or "someone@example.org")
    msg["To"] = str(item.get("to") or "dpo.ago@vlaanderen.be")
    msg["Subject"] = str(item.get("subject") or "")
    date = item.get("date") or "2026-03-02T10:00:00+01:00"
    moment = date if isinstance(date, datetime) else datetime.fromisoformat(str(date))
    msg["Date"] = format_datetime(moment)
    msg["Message-ID"] = f"<{str(item['id']).lower()}@everyday.test>"
    for header, value in (item.get("headers") or {}).items():
        if not str(header).lower().startswith(("content-", "mime-")):
            msg[str(header)] = str(value)
    msg.set_content(str(item.get("body") or "") + "\n")
    return msg.as_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--writers", default="w1,w2")
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--show", action="store_true", help="print the wrong ids")
    args = parser.parse_args()
    if not args.source.is_dir():
        print(f"no everyday source at {args.source}: nothing measured")
        return 0
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(default_settings(), with_model=not args.no_model)
    items = load(args.source, args.writers.split(","))
    right = 0
    opened, non_requests, missed, requests = [], 0, [], 0
    confusion: Counter[tuple[str, str]] = Counter()
    for item in items:
        expected = {"question": "other"}.get(item["kind"], item["kind"])
        result = pipeline.triage_bytes(as_email(item))
        robot = result.disposition == "robot" or result.kind in ROBOT_KINDS
        got = "robot" if robot else result.kind
        right += got == expected
        if got != expected:
            confusion[(expected, got)] += 1
        if expected == "request":
            requests += 1
            if not result.rights:
                missed.append(item["id"])
        elif expected == "other":
            non_requests += 1
            if result.rights:
                opened.append(item["id"])
    model = "off" if args.no_model else "on"
    print(f"messages {len(items)} (writers {args.writers}, model {model})")
    print(f"kind accuracy {right / len(items):.3f} ({right} of {len(items)})")
    print(f"other/question opened as requests {len(opened)} of {non_requests}")
    print(f"requests with no right {len(missed)} of {requests}")
    for (a, b), n in confusion.most_common():
        print(f"  {a} -> {b}: {n}")
    if args.show:
        print("opened:", " ".join(opened))
        print("missed:", " ".join(missed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
