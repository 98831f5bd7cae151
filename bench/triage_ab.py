"""Benchmark: the triage of two checkouts side by side, on a host whose speed varies.

    git worktree add /tmp/before <rev>
    .venv/bin/python bench/triage_ab.py /tmp/before [--after .] [--rounds 2] [-n 1000]

Each round runs both checkouts at the same time, one per core, then again with the cores
swapped, so both see the same host. Each process warms up on 1,000 messages, then triages 1,000
others (parse included) four times and reports messages/s by its own CPU time. Prints every
figure and the ratio of the medians (after / before). The model is the current checkout's
`models/build/` for both, so only the code and the rules differ.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(count: int, model_dir: str) -> list[float]:
    """In this process (the checkout first on sys.path): messages/s by CPU time, four passes."""
    import logging
    from dataclasses import replace

    logging.disable(logging.WARNING)
    from intake.config import default_settings
    from intake.triage import TriagePipeline
    from tests import mailgen

    warm, timed = list(mailgen.backlog(count, seed=11)), list(mailgen.backlog(count, seed=13))
    pipeline = TriagePipeline.from_settings(replace(default_settings(), model_dir=model_dir))
    for raw in warm:
        pipeline.triage_bytes(raw)
    rates = []
    for _ in range(4):
        began = time.process_time()
        for raw in timed:
            pipeline.triage_bytes(raw)
        rates.append(count / (time.process_time() - began))
    return rates


def start(checkout: Path, core: int, count: int, model_dir: str) -> subprocess.Popen[str]:
    code = (f"import sys, json; sys.path.insert(0, {str(checkout)!r}); "
            f"sys.path.insert(1, {str(ROOT / 'bench')!r}); import triage_ab; "
            f"print(json.dumps(triage_ab.measure({count}, {model_dir!r})))")
    return subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-c", code],
                            cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="checkout of the code to compare against")
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout (default: this one)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("-n", type=int, default=1000, help="messages per pass (default 1000)")
    args = parser.parse_args()
    model_dir = str(ROOT / "models" / "build")
    rates: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for cores in ((0, 1), (1, 0)):
            runs = {"before": start(args.before.resolve(), cores[0], args.n, model_dir),
                    "after": start(args.after.resolve(), cores[1], args.n, model_dir)}
            for name, process in runs.items():
                out, _ = process.communicate()
                if process.returncode != 0:
                    print(f"{name}: the triage failed (exit {process.returncode})",
                          file=sys.stderr)
                    return 1
                rates[name] += json.loads(out.strip().splitlines()[-1])
    for name, values in rates.items():
        print(f"{name:<7} messages/s by CPU time: {', '.join(str(round(v)) for v in values)}")
    ratio = statistics.median(rates["after"]) / statistics.median(rates["before"])
    print(f"after / before (medians): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
