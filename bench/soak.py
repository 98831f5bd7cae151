"""Benchmark: one worker over many rounds of new mail, to see whether its memory levels off.

    .venv/bin/python bench/soak.py [--rounds 20] [-n 500] [--db sqlite|postgresql]

Starts the test suite's private Dovecot and SMTP server, builds one Worker (as the daemon does,
once), then per round: APPENDs n new fictional messages (`tests/mailgen.backlog`, a new seed
each round) to the two mailboxes, runs `Worker.run_once()` and prints the process's RSS after a
garbage collection, the messages recorded and the time. A daemon that runs for months needs the
RSS to stop climbing once the first rounds have filled its caches. Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.backlog import load, services  # noqa: E402
from bench.classify import current_rss_mb  # noqa: E402
from intake.daemon import Worker  # noqa: E402
from intake.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from intake.store.models import Message  # noqa: E402
from tests import mailgen  # noqa: E402
from tests.fixtures.pipeline import AGO, WSE, mailbox, make_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("-n", type=int, default=500, help="new messages per round")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)

    with services(args.db, "soak-") as (server, smtp, db_url):
        engine = make_engine(db_url)
        upgrade(engine)
        settings = make_settings(
            db_url,
            [mailbox(AGO, server.imap_settings()),
             mailbox(WSE, server.imap_settings(folder="WSE"))],
            replace(smtp.settings(), replies_per_sender_per_day=1_000_000),
        )
        gc.collect()
        before = current_rss_mb()  # this script, the SMTP test server, mailgen
        worker = Worker(settings)
        gc.collect()
        print(f"before the worker: RSS {before:.0f} MB; worker built: "
              f"RSS {current_rss_mb():.0f} MB")
        for number in range(1, args.rounds + 1):
            load(server, list(mailgen.backlog(args.n, seed=1000 + number)))
            started = time.perf_counter()
            report = worker.run_once()
            elapsed = time.perf_counter() - started
            delivered = smtp.forget()  # it runs in this process: not our memory
            gc.collect()
            with make_session_factory(engine)() as session:
                recorded = session.scalar(select(func.count()).select_from(Message))
            seen = sum(p.seen for p in report.passes)
            print(f"round {number:>3}: {seen} seen, {recorded} recorded in all, "
                  f"{delivered} replies delivered, {elapsed:.1f} s, "
                  f"RSS {current_rss_mb():.0f} MB"
                  + (f", errors {report.errors}" if report.errors else ""))
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
