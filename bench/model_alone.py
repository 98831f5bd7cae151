"""Benchmark: leave one everyday writer out, the linear model alone. Prints the figures.

    .venv/bin/python bench/model_alone.py [--folds w1,w7,...] [--corpus DIR] [--c 8] [--json FILE]

For each left-out writer (a fold), the linear model (intake/classify/linear.py, as `intake
model train` fits it) is trained on every line of the model corpus (models/corpus/) but that
writer's, and answers that writer's lines: a right counts as found where its probability is at
least 0.5. No rules, no calibration, no review flag: it measures a change to the model's
features or training in ~10 s a fold, where bench/lowo.py runs the whole triage in 60–90 s.
What it says is the model's own share; a gain here must still be measured with the triage
(bench/lowo.py, `intake rules eval`, bench/realtext.py) before it is kept.

The default folds are the eight writers of docs/classification.md (eleventh round).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from intake.classify.corpus import CorpusExample

DEFAULT_FOLDS = "w1,w7,w12,w20,w26,w33,w44,w49"
WRITER_SOURCE = "everyday-{}"


def micro_f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    """Micro-F1 of two boolean (messages, rights) matrices; 1.0 when both are empty.

    Unrounded: training.f1_report rounds to three decimals, too coarse for settings that differ
    by 0.003."""
    tp = int((predicted & gold).sum())
    wrong = int((predicted ^ gold).sum())
    return 1.0 if tp + wrong == 0 else 2 * tp / (2 * tp + wrong)


def fold_figure(examples: Sequence[CorpusExample], writer: str, c: float) -> dict[str, float | int]:
    """Train without the writer's lines, answer them; their count and the micro-F1."""
    from intake.classify.labels import RIGHTS
    from intake.classify.linear import train_linear
    from intake.classify.training import gold_matrix

    source = WRITER_SOURCE.format(writer)
    held = [e for e in examples if e.source == source]
    rest = [e for e in examples if e.source != source]
    model = train_linear([("", e.text) for e in rest], [e.rights for e in rest], c=c)
    columns = [model.labels.index(r) for r in RIGHTS]
    predicted = np.array([model.probabilities("", e.text)[columns] >= 0.5 for e in held])
    gold = gold_matrix(held)
    return {"messages": len(held), "micro_f1": round(micro_f1(predicted, gold), 4)}


def main(argv: list[str] | None = None) -> int:
    from intake.classify.corpus import corpus_files, read_corpus
    from intake.classify.linear import DEFAULT_C

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default=DEFAULT_FOLDS,
                        help=f"writers to leave out, comma-separated (default {DEFAULT_FOLDS})")
    parser.add_argument("--corpus", type=Path, default=ROOT / "models" / "corpus")
    parser.add_argument("--c", type=float, default=DEFAULT_C,
                        help=f"regularisation of each right's regression (default {DEFAULT_C})")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    files = corpus_files(args.corpus)
    if not files:
        parser.error(f"no *.jsonl files in {args.corpus}")
    examples = read_corpus(files)
    folds = [w for w in args.folds.split(",") if w]
    sources = {e.source for e in examples}
    unknown = [w for w in folds if WRITER_SOURCE.format(w) not in sources]
    if not folds or unknown:
        parser.error(f"no lines of {', '.join(unknown) or 'any writer'} in {args.corpus}")
    figures: dict[str, dict[str, float | int]] = {}
    for writer in folds:
        began = time.perf_counter()
        figures[writer] = fold_figure(examples, writer, args.c)
        print(f"{writer}: micro-F1 {figures[writer]['micro_f1']:.4f} on "
              f"{figures[writer]['messages']} messages ({time.perf_counter() - began:.0f} s)",
              flush=True)
    mean = round(sum(float(f["micro_f1"]) for f in figures.values()) / len(figures), 4)
    writers = f"{len(figures)} left-out writer{'s' if len(figures) != 1 else ''}"
    print(f"mean over {writers}, model alone: micro-F1 {mean:.4f}")
    if args.json:
        args.json.write_text(json.dumps({"c": args.c, "folds": figures, "mean_micro_f1": mean},
                                        indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
