"""A separate process that takes a mailbox folder the way the worker does (Processor._take_lease).

python -m tests.lockholder URL hold     take it, print "held", keep it until killed
python -m tests.lockholder URL wait     try every 0.1 s; print "refused" at the first refusal,
                                        then "held <seconds since the first try>" once it has it
"""

from __future__ import annotations

import sys
import time

from intake.processor import LeaseHeld, Processor
from intake.store.db import make_engine, make_session_factory


def main(url: str, mode: str) -> None:
    sessions = make_session_factory(make_engine(url))
    processor = Processor(None, sessions, None, worker_id=f"test:{mode}")  # type: ignore[arg-type]
    refused = False
    while True:
        try:
            processor._take_lease("ago", "INBOX", 1)
            break
        except LeaseHeld:
            if mode == "hold":
                print("refused", flush=True)
                sys.exit(3)
            if not refused:
                print("refused", flush=True)
                refused = True
            time.sleep(0.1)
    print(f"held {time.time():.3f}", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
