"""Benchmark: throughput and memory of the rule classifier alone (prints figures).

    .venv/bin/python bench/classify.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intake.classify import Classifier  # noqa: E402
from tests.test_classify_examples import EXAMPLES  # noqa: E402


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process (getrusage, kB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mixed_messages(count: int) -> list[tuple[str, str]]:
    """`count` (subject, body) pairs cycled from the examples, each with a longer body."""
    filler = "\n\nMet vriendelijke groeten,\nAn Janssens\nStraat 1, 1000 Brussel\n" * 2
    return [
        (subject, body + filler)
        for _, subject, body, _, _ in (EXAMPLES[i % len(EXAMPLES)] for i in range(count))
    ]


def bench(count: int = 1000, detect: bool = True) -> dict[str, float]:
    """Load once, classify `count` messages; messages/s and memory figures."""
    start = time.perf_counter()
    classifier = Classifier.load(ROOT / "rules")
    classifier.classify("", "warm-up: detector en pijplijnen laden")
    loaded = time.perf_counter() - start
    after_load = {"rss_now_mb": current_rss_mb(), "rss_peak_mb": peak_rss_mb()}
    messages = mixed_messages(count)
    start = time.perf_counter()
    for subject, body in messages:
        classifier.classify(subject, body, language=None if detect else "nl")
    elapsed = time.perf_counter() - start
    return {
        "load_s": round(loaded, 2),
        "messages": count,
        "messages_per_s": round(count / elapsed),
        **{k: round(v) for k, v in after_load.items()},
        "rss_after_run_mb": round(current_rss_mb()),
    }


if __name__ == "__main__":
    print(bench(1000, detect=True))
    print("without language detection:", bench(1000, detect=False))
