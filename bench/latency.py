"""Benchmark: from APPEND of a request to its acknowledgement at the SMTP server, IDLE vs polling.

    .venv/bin/python bench/latency.py [-n 50] [--poll-seconds 10] [--only idle|polling]

Starts the test suite's private Dovecot and SMTP server and runs the daemon's scheduler
(Worker.run_forever) in this process, once with IMAP IDLE and once polling only. A driver thread
APPENDs one fictional request at a time and waits until its acknowledgement reaches the SMTP
server, n times per mode. With IDLE the poll interval is 300 s, so only the push can explain a
quick answer. Prints p50/p95/max; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.backlog import services  # noqa: E402
from intake.config import RunSettings  # noqa: E402
from intake.daemon import Worker  # noqa: E402
from intake.triage import TriagePipeline  # noqa: E402
from tests import mailgen  # noqa: E402
from tests.fixtures.pipeline import AGO, mailbox, make_settings  # noqa: E402

OUTBOX_SECONDS = 300  # the flush after a pass that recorded mail is what delivers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure(server, smtp, db_url: str, pipeline: TriagePipeline, idle: bool, n: int,
            poll_seconds: int, offset: int) -> list[float]:
    settings = make_settings(db_url, [mailbox(AGO, server.imap_settings())], smtp.settings())
    settings = replace(settings, run=RunSettings(
        poll_seconds=300 if idle else poll_seconds, outbox_seconds=OUTBOX_SECONDS, idle=idle))
    worker = Worker(settings, pipeline=pipeline)
    latencies: list[float] = []
    failure: list[str] = []
    rng = random.Random(offset)

    def drive() -> None:
        try:
            time.sleep(2.0)  # the first (empty) pass at start-up
            base = len(smtp.received)
            for i in range(n):
                raw = mailgen.request(
                    rng.choice(("access", "erasure", "objection")), "nl", to=AGO["address"],
                    seed=offset + i, sender=(f"Persoon {offset + i}", f"p{offset + i}@example.be"),
                )
                started = time.perf_counter()
                server.append(raw)
                smtp.wait_for(base + i + 1, timeout=poll_seconds + 60 if not idle else 60)
                latencies.append(time.perf_counter() - started)
                # Arrivals must not be in step with the poll: right after an acknowledgement the
                # next poll is almost a whole interval away. A random phase in [0, interval).
                time.sleep(rng.uniform(0.1, 0.5) if idle else rng.uniform(0, poll_seconds))
        except Exception as exc:  # reported after the worker stopped
            failure.append(f"{type(exc).__name__}: {exc}")
        finally:
            worker.stop.set()

    driver = threading.Thread(target=drive, name="driver")
    driver.start()
    worker.run_forever()  # returns when the driver sets worker.stop
    driver.join()
    if failure:
        raise SystemExit(f"{'idle' if idle else 'polling'}: {failure[0]}")
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="requests per mode")
    parser.add_argument("--poll-seconds", type=int, default=10,
                        help="the poll interval of the polling-only run")
    parser.add_argument("--only", choices=("idle", "polling"))
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's deprecation notices
    with services("sqlite", "latency-") as (server, smtp, db_url):
        from intake.store.db import make_engine, upgrade

        upgrade(make_engine(db_url))
        settings = make_settings(db_url, [mailbox(AGO, server.imap_settings())], smtp.settings())
        pipeline = TriagePipeline.from_settings(settings)
        modes = [m for m in ("idle", "polling") if args.only in (None, m)]
        print(f"{args.n} requests per mode; APPEND -> acknowledgement at the SMTP server")
        for k, mode in enumerate(modes):
            values = measure(server, smtp, db_url, pipeline, mode == "idle", args.n,
                             args.poll_seconds, offset=1000 * (k + 1))
            label = ("IDLE (poll 300 s)" if mode == "idle"
                     else f"polling every {args.poll_seconds} s")
            print(f"  {label:<22} p50 {statistics.median(values):6.2f} s   "
                  f"p95 {percentile(values, 0.95):6.2f} s   max {max(values):6.2f} s")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
