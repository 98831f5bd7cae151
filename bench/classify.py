"""Benchmark: the whole pure triage (parse → guard → thread → classify with the model → identity)
on 1,000 text-only messages, one core: messages/s, p50/p95 latency, RSS. Prints the figures.

    .venv/bin/python bench/classify.py [-n 1000] [--model-dir DIR]

Each configuration runs in its own process (so RSS is its own): the triage with the trained
model (models/build, built by `intake model train`) and, for comparison, on rules alone.
Two passes: the first 1,000 messages a fresh process sees ("cold": every new word is added to
the vocabulary, with its rule flags), then 1,000 other messages ("warm", as in a running daemon,
which has seen most everyday words). messages/s, p50 and p95 are those of the warm pass.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process (getrusage, kB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(count: int, model_dir: str) -> dict[str, object]:
    """In this process: load the triage once, then triage `count` messages one by one."""
    from intake.config import default_settings
    from intake.message import parse_message
    from intake.triage import TriagePipeline
    from tests import mailgen

    messages = list(mailgen.backlog(count, seed=11))  # built before the clock and the RSS
    start = time.perf_counter()
    pipeline = TriagePipeline.from_settings(replace(default_settings(), model_dir=model_dir))
    pipeline.triage_bytes(messages[0])  # warm-up: the language detector is built on first use
    loaded = time.perf_counter() - start
    rss_loaded = current_rss_mb()
    cold_elapsed, _, _, _ = timed_pass(pipeline, messages)
    others = list(mailgen.backlog(count, seed=13))
    elapsed, latencies, with_model, cpu = timed_pass(pipeline, others)
    cuts = statistics.quantiles(latencies, n=100)
    model = pipeline.classifier.model
    model_ms = None
    if model is not None:  # the model's own share of the latency
        parsed = [parse_message(raw) for raw in messages]
        began = time.perf_counter()
        for msg in parsed:
            model.probabilities(msg.subject, msg.text, "nl")
        model_ms = round((time.perf_counter() - began) / count * 1000, 3)
    return {
        "model": pipeline.classifier.model is not None,
        "messages": count,
        "messages_with_model_lines": with_model,
        "messages_per_s": round(count / elapsed),
        "cold_messages_per_s": round(count / cold_elapsed),
        "cpu_messages_per_s": round(count / cpu),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "model_alone_ms": model_ms,
        "load_s": round(loaded, 2),
        "rss_loaded_mb": round(rss_loaded),
        "rss_after_run_mb": round(current_rss_mb()),
        "rss_peak_mb": round(peak_rss_mb()),
    }


def timed_pass(pipeline, messages: list[bytes]) -> tuple[float, list[float], int, float]:
    """(seconds, per-message latencies, messages whose explanation has model lines, CPU seconds).

    The CPU seconds of the process say what the triage costs when other jobs share the core
    (the wall clock then also counts the time they took).
    """
    latencies = []
    with_model = 0
    total = time.perf_counter()
    cpu = time.process_time()
    for raw in messages:
        began = time.perf_counter()
        result = pipeline.triage_bytes(raw)
        latencies.append(time.perf_counter() - began)
        with_model += any(line.startswith("model ") for line in result.explanation)
    return time.perf_counter() - total, latencies, with_model, time.process_time() - cpu


def run_child(count: int, model_dir: str) -> dict[str, object]:
    """measure() in a fresh process pinned to one CPU, so its RSS and speed are its own."""
    command = [sys.executable, __file__, "--child", "-n", str(count), "--model-dir", model_dir]
    if hasattr(os, "sched_setaffinity"):
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, **ONE_CORE})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    from intake.config import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="messages (default 1000)")
    parser.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n, args.model_dir)))
        return 0
    if not (Path(args.model_dir) / "meta.json").is_file():
        print(f"no model at {args.model_dir}: run `intake model train` first", file=sys.stderr)
        return 1
    rows = {
        "triage with model": run_child(args.n, args.model_dir),
        "triage, rules only": run_child(args.n, str(Path(args.model_dir) / "absent")),
    }
    for name, row in rows.items():
        print(f"{name:<20} {row['messages_per_s']:>5} messages/s warm "
              f"({row['cold_messages_per_s']} cold, {row['cpu_messages_per_s']} by CPU time)  "
              f"p50 {row['p50_ms']} ms  "
              f"p95 {row['p95_ms']} ms  RSS {row['rss_loaded_mb']} MB loaded, "
              f"{row['rss_after_run_mb']} MB after, peak {row['rss_peak_mb']} MB  "
              f"(load {row['load_s']} s"
              + (f"; the model alone {row['model_alone_ms']} ms/message)"
                 if row["model_alone_ms"] is not None else ")"))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
