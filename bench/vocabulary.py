"""Benchmark: memory of a long-running triage that keeps meeting words it has never seen.

    .venv/bin/python bench/vocabulary.py [--words 500000] [--new-words N]

Loads the triage (rules + models/build), warms it on 1,000 `tests/mailgen.backlog` messages,
then triages Dutch requests that each carry 200 random never-seen words (what spam, tracking
codes and names do to a vocabulary over months), and prints the RSS after every 100,000 of them
(`--every`).
Then the triage speed on 1,000 other everyday messages, with the vocabulary as it is by then.
`--new-words` is how many words each vocabulary keeps (intake.classify.vocabulary; a huge value
shows spaCy's own behaviour, every word kept).
"""

from __future__ import annotations

import argparse
import gc
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.classify import current_rss_mb, peak_rss_mb  # noqa: E402
from intake.classify.vocabulary import NEW_WORDS_KEPT  # noqa: E402

WORDS_PER_MESSAGE = 200
REPORT_EVERY = 100_000  # words between two RSS lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=500_000, help="never-seen words in all")
    parser.add_argument("--new-words", type=int, default=NEW_WORDS_KEPT,
                        help="words each vocabulary keeps (default %(default)s)")
    parser.add_argument("--every", type=int, default=REPORT_EVERY,
                        help="never-seen words between two RSS lines (default %(default)s)")
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from intake.classify.engine import Classifier
    from intake.classify.trained import TrainedModel
    from intake.config import default_settings
    from intake.identity import IdentityChecker
    from intake.triage import TriagePipeline
    from tests import mailgen

    settings = default_settings()
    model = TrainedModel.load(ROOT / "models/build", new_words=args.new_words)
    pipeline = TriagePipeline(
        classifier=Classifier.load(settings.rules_dir, model=model, new_words=args.new_words),
        identity=IdentityChecker(),
        own_addresses=settings.all_own_addresses,
        reference_prefixes=[m.reference_prefix for m in settings.mailboxes],
    )
    for raw in mailgen.backlog(1000, seed=11):
        pipeline.triage_bytes(raw)
    gc.collect()
    base = current_rss_mb()
    print(f"keeping {args.new_words} new words per vocabulary; after load and 1,000 messages: "
          f"RSS {base:.0f} MB")

    rng = random.Random(1)
    seen = 0
    started = time.process_time()
    while seen < args.words:
        words = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 12)))
                         for _ in range(WORDS_PER_MESSAGE))
        raw = (b"From: someone@example.org\r\nTo: dpo.wse@vlaanderen.be\r\nSubject: inzage\r\n"
               b"Message-ID: <w%d@example.org>\r\n\r\nIk wil inzage in mijn gegevens. "
               % seen) + words.encode() + b"\r\n"
        pipeline.triage_bytes(raw)
        seen += WORDS_PER_MESSAGE
        if seen % args.every == 0:
            gc.collect()
            rss = current_rss_mb()
            print(f"{seen:>9,} never-seen words: RSS {rss:.0f} MB (+{rss - base:.0f}), "
                  f"{(rss - base) * 2**20 / seen:.0f} bytes a word; "
                  f"{seen / WORDS_PER_MESSAGE / (time.process_time() - started):.0f} messages/s")

    others = list(mailgen.backlog(1000, seed=13))
    started = time.process_time()
    for raw in others:
        pipeline.triage_bytes(raw)
    elapsed = time.process_time() - started
    print(f"then 1,000 everyday messages: {len(others) / elapsed:.0f} messages/s by CPU time; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
