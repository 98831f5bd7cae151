"""Benchmark: time requester_text adds per message, on text-only mail and a few harder kinds.

    .venv/bin/python bench/requester_text.py [-n 1000]

Messages are parsed first (not timed); the figures are the cost of requester_text alone.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intake.message import ParsedMessage, parse_message  # noqa: E402
from intake.requester_text import requester_text  # noqa: E402
from tests import mailgen  # noqa: E402


def measure(messages: list[ParsedMessage], rounds: int = 3) -> tuple[float, float, float]:
    """(mean, p50, p95) in milliseconds per message, best of `rounds` for the mean."""
    for msg in messages[:50]:  # warm the regex caches
        requester_text(msg)
    timings: list[float] = []
    best_total = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for msg in messages:
            t0 = time.perf_counter()
            requester_text(msg)
            timings.append(time.perf_counter() - t0)
        best_total = min(best_total, time.perf_counter() - started)
    ms = sorted(t * 1000 for t in timings)
    return best_total * 1000 / len(messages), statistics.median(ms), ms[int(0.95 * len(ms))]


def kinds(n: int) -> dict[str, Callable[[int], bytes]]:
    access = mailgen.PHRASES["access"]["nl"][0]
    letter = ("brief.pdf", "application/pdf", mailgen.letter_pdf(f"Geachte,\n\n{access}\n\nJan"))
    return {
        "text-only backlog (mailgen.backlog)": lambda i: next(mailgen.backlog(1, seed=i)),
        "reply with quote (gmail, nl)": lambda i: mailgen.reply("Bedankt.", access, seed=i),
        "Outlook HTML-only reply": lambda i: mailgen.outlook_html(access, quoted=access, seed=i),
        "forward (outlook, fr)": lambda i: mailgen.forward(access, "fr", "outlook", seed=i),
        "zie bijlage + 1-page PDF": lambda i: mailgen.plain_note(
            "Zie bijlage.", attachments=[letter], seed=i),
        "crafted 100 KB body (slowest pattern)": lambda i: mailgen.plain_note(
            ("Op " + "woord " * 60 + "schreef " * 3 + "\n") * 270, seed=i),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # mail-parser and pypdf chatter while generating
    print(f"requester_text, {args.n} messages per kind (parse not timed)")
    print(f"{'kind':40} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, make in kinds(args.n).items():
        count = args.n if name.startswith(("text", "reply", "Outlook", "forward")) else 50
        messages = [parse_message(make(i)) for i in range(count)]
        mean, p50, p95 = measure(messages)
        print(f"{name:40} {mean:8.3f} {p50:8.3f} {p95:8.3f}")


if __name__ == "__main__":
    main()
