"""Benchmark: instructions per message of the pure triage, counted by valgrind's callgrind.

    .venv/bin/python bench/triage_instructions.py [CHECKOUT ...] [-n 200] [--no-model]

On a shared host the speed of the triage moves with the other jobs (CPU time too, through the
caches); the number of instructions it executes does not. For each checkout (default: this
one), in its own process under callgrind with instrumentation off: load the triage, triage the
1,000 tests/mailgen.backlog messages of bench/classify.py's warm-up (seed 11), then count only
while it triages n of the others (seed 13), inside itertools.starmap
(--toggle-collect=starmap_next). The model is this checkout's models/build for every checkout,
so only the code and the rules differ. Needs valgrind; each checkout takes a few minutes.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(checkout: Path, count: int, model_dir: str) -> None:
    """In the process callgrind runs: warm up, switch instrumentation on, triage `count`."""
    sys.path.insert(0, str(checkout))
    logging.disable(logging.WARNING)
    from dataclasses import replace

    from intake.config import default_settings
    from intake.triage import TriagePipeline
    from tests import mailgen

    warm = list(mailgen.backlog(1000, seed=11))
    timed = [(raw,) for raw in itertools.islice(mailgen.backlog(1000, seed=13), count)]
    pipeline = TriagePipeline.from_settings(replace(default_settings(), model_dir=model_dir))
    for raw in warm:
        pipeline.triage_bytes(raw)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                   capture_output=True)
    for _ in itertools.starmap(pipeline.triage_bytes, timed):  # counted: see the docstring
        pass


def count(checkout: Path, messages: int, model_dir: str) -> float:
    """Instructions per message of the triage in `checkout`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
             "--toggle-collect=starmap_next", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", str(checkout), "-n", str(messages),
             "--model-dir", model_dir],
            check=True, capture_output=True, cwd=checkout)
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise RuntimeError(f"{out}: no instruction count")
        return int(totals.group(1)) / messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", type=Path, default=[ROOT])
    parser.add_argument("-n", type=int, default=200, help="messages counted (default 200)")
    parser.add_argument("--no-model", action="store_true", help="the rules alone")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    build = ROOT / "models" / "build"
    model_dir = args.model_dir or str(build / "absent" if args.no_model else build)
    if args.child:
        child(args.child, args.n, model_dir)
        return 0
    results = {checkout: count(checkout.resolve(), args.n, model_dir)
               for checkout in args.checkouts}
    for checkout, per_message in results.items():
        print(f"{checkout}: {per_message / 1e6:.2f} M instructions a message "
              f"({'rules only' if args.no_model else 'with the model'}, {args.n} messages)")
    if len(results) == 2:
        first, second = results.values()
        print(f"second / first: {second / first:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
