"""Benchmark: leave one everyday writer out — train without a writer, triage that writer's mail.

    .venv/bin/python bench/lowo.py [--folds w3,w8] [--pool w1,w2,...] [--json FILE] [--keep DIR]
                                   [--review-folds N]

For each left-out writer (a fold): the model corpus (models/corpus/, with the everyday train
rows of every pool writer but the left-out one) is trained as `intake model train` does, into a
temporary build; then the whole pure triage (rules + that model) runs on the left-out writer's
.eml files and is scored as `intake rules eval` scores a directory. The mean over the folds is
the best estimate here of the figure on mail by a writer nobody tuned for (docs/classification.md).

The default pool is every writer of the train and dev splits (tests/everyday/build.py SPLITS);
the test splits are never in it. ~60–90 s per fold on this machine, of which ~40 s fit the learned
review flag inside the fold (reviewfit.py); `--review-folds 0` skips it when only the rights and
kinds matter (the flag then uses the hand-made reasons).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _writer_data(writer: str, source: Path, data: Path) -> Path:
    """Build one writer's .eml files and corpus lines into data/<writer>/ (a split of its own)."""
    import tests.everyday.build as everyday

    target = data / writer
    split_source = data / "source"
    shutil.rmtree(split_source, ignore_errors=True)
    shutil.copytree(source / writer, split_source / writer)
    everyday.SPLITS = {writer: writer}  # the writer is its own split, built as build() builds
    everyday.build(split_source, data, [writer])
    everyday.export_corpus(target, data / f"{writer}.jsonl")
    return target


def _fold(fold: str, pool: list[str], data: Path, work: Path, review_folds: int | None
          ) -> dict[str, Any]:
    from intake.classify.evaluate import evaluate, load_samples
    from intake.classify.modelbuild import BuildOptions, build_model
    from intake.cli.rules import predict
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    corpus = work / f"corpus-{fold}"
    corpus.mkdir()
    for path in (ROOT / "models" / "corpus").iterdir():
        if path.name != "everyday-train.jsonl":  # rebuilt below, without the left-out writer
            shutil.copy(path, corpus / path.name)
    for writer in pool:
        if writer != fold:
            shutil.copy(data / f"{writer}.jsonl", corpus / f"everyday-{writer}.jsonl")
    model = work / f"model-{fold}"
    folds = {} if review_folds is None else {"review_folds": review_folds}
    build_model(BuildOptions(corpus_dir=corpus, out_dir=model, progress=False, **folds))
    pipeline = TriagePipeline.from_settings(replace(default_settings(), model_dir=str(model)))
    report = evaluate(load_samples(data / fold), lambda s: predict(pipeline, s)).to_json()
    return {"samples": report["samples"], "micro_f1": report["micro"]["f1"],
            "macro_f1": report["macro_f1"], "kind_accuracy": report["kind_accuracy"],
            "requests_without_case": len(report["requests_without_case"]),
            "review_catch_rate": report["review_catch_rate"],
            "review_flag_rate": report["review_flag_rate"],
            "wrong": report["wrong"], "wrong_flagged": report["wrong_flagged"]}


def main(argv: list[str] | None = None) -> int:
    from tests.everyday.build import SOURCE, SPLITS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_pool = [w for w, split in SPLITS.items() if split in ("train", "dev")]
    parser.add_argument("--pool", default=",".join(default_pool),
                        help="writers whose mail may be trained on (comma-separated)")
    parser.add_argument("--folds", default="", help="writers to leave out (default: the pool)")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--review-folds", type=int, default=None, metavar="N",
                        help="folds of the learned review flag's cross-fit in each fold's build "
                             "(default: as intake model train; 0: none, faster)")
    args = parser.parse_args(argv)
    pool = [w for w in args.pool.split(",") if w]
    folds = [w for w in args.folds.split(",") if w] or pool
    unknown = [w for w in {*pool, *folds} if not (args.source / w).is_dir()]
    if unknown:
        parser.error(f"no source folder for {', '.join(sorted(unknown))} under {args.source}")
    if any(SPLITS.get(w, "").startswith("test") for w in pool):
        parser.error("a test split's writer may not be in the pool")

    work = args.keep or Path(tempfile.mkdtemp(prefix="intake-lowo-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    try:
        for writer in sorted({*pool, *folds}):
            _writer_data(writer, args.source, data)
        figures: dict[str, dict[str, Any]] = {}
        for fold in folds:
            figures[fold] = _fold(fold, pool, data, work, args.review_folds)
            print(fold, json.dumps(figures[fold]), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    keys = ("micro_f1", "macro_f1", "kind_accuracy", "review_flag_rate")
    mean = {k: round(sum(f[k] for f in figures.values()) / len(figures), 4) for k in keys}
    without_case = sum(f["requests_without_case"] for f in figures.values())
    wrong = sum(f["wrong"] for f in figures.values())
    caught = sum(f["wrong_flagged"] for f in figures.values()) / wrong if wrong else 1.0
    print(f"mean over {len(figures)} left-out writers: micro-F1 {mean['micro_f1']:.3f}, "
          f"macro-F1 {mean['macro_f1']:.3f}, kind accuracy {mean['kind_accuracy']:.3f}; "
          f"requests without a case: {without_case}; review flag on "
          f"{mean['review_flag_rate']:.1%} of messages, catching {caught:.1%} of the {wrong} "
          "wrong answers")
    if args.json:
        args.json.write_text(json.dumps({"pool": pool, "folds": figures, "mean": mean},
                                        indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
