"""`intake model train|compare|export-corrections`: build the right classifier, learn from staff."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError

VARIANTS_COMPARED = (
    ("linear", None, False),
    ("bow", 1, False),
    ("bow", 2, False),
    ("bow", 3, False),
    ("bow", 1, True),
    ("ensemble", 2, False),
)


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = actions.add_parser(
        "train", parents=[common],
        help="train on models/corpus/*.jsonl (corrections included) and write the build")
    _training_options(train)
    train.add_argument("--out", metavar="DIR",
                       help="build directory (default: [model] dir, else models/build)")
    train.add_argument("--arch", choices=["linear", "config", "bow", "ensemble"],
                       default="linear",
                       help="linear model (default), or a spaCy textcat as the config file says "
                            "(config), bag-of-words or ensemble")
    train.add_argument("--ngram", type=int, metavar="N", help="override the n-gram size")
    train.add_argument("--per-language", action="store_true",
                       help="one pipeline per language instead of one for all")
    train.add_argument("--review-folds", type=int, default=None, metavar="N",
                       help="folds of the cross-fit that trains the learned review flag "
                            "(default 5; 0: none, the hand-made review reasons apply)")
    train.add_argument("--json", action="store_true", help="print meta.json instead of a summary")
    train.set_defaults(handler=run_train)

    compare = actions.add_parser(
        "compare", parents=[common],
        help="train the candidate architectures on the same split and print dev F1 and speed")
    _training_options(compare)
    compare.set_defaults(handler=run_compare)

    export = actions.add_parser(
        "export-corrections", parents=[common],
        help="write cases whose rights staff corrected as training examples (JSONL)")
    export.add_argument("--out", metavar="FILE",
                        help="output file, '-' for stdout (default: "
                             "models/corpus/corrections.jsonl)")
    export.set_defaults(handler=run_export)


def _training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", metavar="DIR", help="corpus directory (default: models/corpus)")
    p.add_argument("--model-config", metavar="FILE",
                   help="spaCy training config (default: models/config.cfg)")
    p.add_argument("--seed", type=int, help="override the config's seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _options(args: argparse.Namespace, **changes: Any):
    from intake.classify.modelbuild import DEFAULT_CONFIG, DEFAULT_CORPUS_DIR, BuildOptions

    settings = settings_from_args(args, required=False)
    return BuildOptions(
        corpus_dir=Path(args.corpus or DEFAULT_CORPUS_DIR),
        config_path=Path(args.model_config or DEFAULT_CONFIG),
        rules_dir=Path(settings.rules_dir),
        seed=args.seed,
        progress=not args.quiet,
        **changes,
    )


def run_train(args: argparse.Namespace) -> int:
    from intake.classify.corpus import CorpusError
    from intake.classify.modelbuild import build_model
    from intake.classify.training import Variant

    try:
        out = Path(args.out or settings_from_args(args, required=False).model_dir)
        if args.review_folds is not None and (args.review_folds < 0 or args.review_folds == 1):
            raise ValueError("--review-folds must be 0 (none) or at least 2")
        folds = {} if args.review_folds is None else {"review_folds": args.review_folds}
        options = _options(args, out_dir=out,
                           variant=Variant(args.arch, args.ngram, args.per_language), **folds)
        meta = build_model(options)
    except (ConfigError, CorpusError, OSError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return 0
    print(format_summary(meta))
    print(f"written to {out}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from intake.classify.corpus import CorpusError
    from intake.classify.modelbuild import build_model
    from intake.classify.training import Variant

    rows = []
    try:
        for arch, ngram, per_language in VARIANTS_COMPARED:
            variant = Variant(arch, ngram, per_language)
            meta = build_model(_options(args, out_dir=None, variant=variant))
            rows.append((variant.name, meta))
    except (ConfigError, CorpusError, OSError, ValueError) as exc:
        return fail(str(exc))
    print(format_comparison(rows))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from intake.classify.corrections import correction_examples, write_jsonl
    from intake.classify.modelbuild import DEFAULT_CORPUS_DIR
    from intake.store.db import DatabaseNotReady, ensure_current, make_engine, make_session_factory

    try:
        engine = make_engine(settings_from_args(args).database.url)
        ensure_current(engine)
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    with make_session_factory(engine)() as session:
        examples, skipped = correction_examples(session)
    if args.out == "-":
        write_jsonl(examples, sys.stdout)
    else:
        out = Path(args.out or DEFAULT_CORPUS_DIR / "corrections.jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as handle:
            write_jsonl(examples, handle)
        print(f"{len(examples)} correction(s) written to {out}", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} corrected case(s) skipped (no message text): "
              f"{', '.join(skipped)}", file=sys.stderr)
    return 0


def format_summary(meta: dict[str, Any]) -> str:
    """Dev-split F1 per right for model, rules and the combination, and the calibration."""
    dev = meta["dev"]
    arch = meta["architecture"]
    described = (arch["features"] if "features" in arch
                 else f"{arch['spacy']}, ngram {arch['ngram_size']}")
    lines = [
        f"model {meta['variant']} ({described}): {meta['examples']['train']} train / "
        f"{meta['examples']['dev']} dev examples ({len(meta['examples']['dev_sources'])} dev "
        f"sources), trained in {meta['train_seconds']} s, {meta['docs_per_second']} docs/s",
        f"{'dev F1':<20}{'model':>8}{'rules':>8}{'combined':>10}{'support':>9}",
    ]
    for right, row in dev["model"]["per_right"].items():
        lines.append(f"{right:<20}{row['f1']:>8.2f}{dev['rules']['per_right'][right]['f1']:>8.2f}"
                     f"{dev['combined']['per_right'][right]['f1']:>10.2f}{row['support']:>9}")
    for key in ("micro_f1", "macro_f1", "exact"):
        lines.append(f"{key:<20}{dev['model'][key]:>8.2f}{dev['rules'][key]:>8.2f}"
                     f"{dev['combined'][key]:>10.2f}")
    ece = meta["calibration"]["ece_message_cross_fitted"]
    lines.append(
        f"needs_review {dev['needs_review_share']:.0%} of dev (rules/model disagree on "
        f"{dev['disagreement_share']:.0%}); calibration ECE {ece:.3f} (cross-fitted); "
        f"model_weight/against {dev['model_weight']}; scan (micro F1): "
        f"{dev['model_weight_scan_micro_f1']}"
    )
    review = meta.get("review")
    if review and review.get("model"):
        which = "everyday" if review["out_of_fold"]["everyday"]["wrong"] else "all"
        oof, dev = review["out_of_fold"][which], review["dev"]
        lines.append(
            f"review flag: P(wrong) >= {review['threshold']:.3f}; out of fold ({which} mail) it "
            f"flags {_share(oof['flagged_share'])} and catches {_share(oof['catch'])} of "
            f"{oof['wrong']} wrong answers; on the dev split it flags "
            f"{_share(dev['flagged_share'])} and catches {_share(dev['catch'])} of {dev['wrong']} "
            f"(fitted in {review['seconds']} s)")
    else:
        why = f": {review['skipped']}" if review and review.get("skipped") else ""
        lines.append(f"review flag: hand-made reasons (no learned review model{why})")
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def format_comparison(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One line per variant: dev F1 of the model alone and combined with the rules, speed."""
    header = (f"{'variant':<24}{'model µF1':>10}{'model MF1':>10}{'comb µF1':>10}{'comb MF1':>10}"
              f"{'docs/s':>9}{'train s':>9}")
    lines = [header]
    for name, meta in rows:
        dev = meta["dev"]
        lines.append(f"{name:<24}{dev['model']['micro_f1']:>10.3f}{dev['model']['macro_f1']:>10.3f}"
                     f"{dev['combined']['micro_f1']:>10.3f}{dev['combined']['macro_f1']:>10.3f}"
                     f"{meta['docs_per_second']:>9}{meta['train_seconds']:>9}")
    lines.append("per right (model alone, F1): "
                 + "; ".join(f"{name}: " + " ".join(f"{r[:5]} {v['f1']:.2f}" for r, v in
                                                    meta["dev"]["model"]["per_right"].items())
                             for name, meta in rows))
    return "\n".join(lines)
