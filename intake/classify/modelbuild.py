"""`intake model train`: corpus → by-source split → training → dev scores → calibration → build."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language

from intake.classify.calibration import Platt, expected_calibration_error, fit_platt, reliability
from intake.classify.corpus import (
    CorpusError,
    CorpusExample,
    corpus_files,
    digest,
    read_corpus,
    read_families,
    split_by_source,
)
from intake.classify.engine import Classifier
from intake.classify.labels import LANGUAGES, RIGHTS
from intake.classify.linear import LinearModel
from intake.classify.reviewfit import (
    REVIEW_FOLDS,
    fit_review_model,
    flag_figures,
    is_wrong,
    out_of_fold,
)
from intake.classify.scoring import add_model, decide, disagreements
from intake.classify.thresholds import Thresholds
from intake.classify.trained import (
    DEFAULT_MODEL_DIR,
    META_FILE,
    PIPELINES_DIR,
    ModelInfo,
    TrainedModel,
    rules_digest,
)
from intake.classify.training import (
    Variant,
    architecture_of,
    docs_per_second,
    f1_report,
    gold_matrix,
    load_config,
    predict,
    train_pipelines,
)
from intake.config import DEFAULT_RULES_DIR, PACKAGE_ROOT

log = logging.getLogger(__name__)

MODELS_DIR = PACKAGE_ROOT.parent / "models"
DEFAULT_CORPUS_DIR = MODELS_DIR / "corpus"
DEFAULT_CONFIG = MODELS_DIR / "config.cfg"
DEV_SHARE = 0.2
# (model_weight, model_weight_against) pairs tried on the dev split, reported in meta.json to
# guide rules/thresholds.yaml.
WEIGHT_SCAN = ((6.0, 1.0), (6.0, 6.0), (8.0, 4.0), (12.0, 6.0), (16.0, 8.0), (20.0, 10.0),
               (16.0, 4.0), (20.0, 5.0), (30.0, 15.0))


@dataclass(frozen=True)
class BuildOptions:
    """Where to read from and write to, and what to train."""

    corpus_dir: Path = DEFAULT_CORPUS_DIR
    config_path: Path = DEFAULT_CONFIG
    out_dir: Path | None = DEFAULT_MODEL_DIR  # None: evaluate only, write nothing
    rules_dir: Path = Path(DEFAULT_RULES_DIR)
    variant: Variant = field(default_factory=Variant)
    seed: int | None = None
    dev_share: float = DEV_SHARE
    progress: bool = True
    review_folds: int = REVIEW_FOLDS  # 0: no learned review flag (hand-made review reasons)


def build_model(options: BuildOptions) -> dict[str, Any]:
    """Train, evaluate on the dev split, calibrate, and write the build; returns meta.json."""
    files = corpus_files(options.corpus_dir)
    if not files:
        raise CorpusError(f"no *.jsonl files in {options.corpus_dir}")
    examples = read_corpus(files)
    config = load_config(options.config_path, options.variant, options.seed)
    seed = int(config["training"]["seed"])
    train, dev = split_by_source(examples, options.dev_share, seed,
                                 read_families(options.corpus_dir))
    if not dev or not train:
        raise CorpusError("the corpus needs several sources: the dev split holds whole sources")
    log.info("model training", extra={"examples": len(examples), "train": len(train),
                                      "dev": len(dev), "variant": options.variant.name})

    started = time.perf_counter()
    pipelines = train_pipelines(config, train, options.variant.per_language, options.progress,
                                options.variant.arch)
    train_seconds = time.perf_counter() - started

    items = [("", e.text, e.language) for e in dev]
    probabilities = predict(pipelines, items)
    classifier = Classifier.load(options.rules_dir)
    rule_scores = [classifier.classify("", e.text, language=e.language).scores for e in dev]
    evaluation = evaluate_dev(dev, probabilities, rule_scores, classifier.thresholds)

    review: dict[str, Any] = {}
    if options.review_folds > 1:
        started = time.perf_counter()
        review = _fit_review(options, config, train, dev, pipelines, classifier, evaluation)
        review["seconds"] = round(time.perf_counter() - started, 1)

    meta: dict[str, Any] = {
        "built_by": "intake model train",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus_sha256": digest(files),
        "config_sha256": digest([options.config_path]),
        "rules_sha256": rules_digest(options.rules_dir),
        "corpus_files": [f.name for f in files],
        "seed": seed,
        "variant": options.variant.name,
        "architecture": architecture_of(config, options.variant),
        "pipelines": sorted(pipelines),
        "labels": _labels(pipelines),
        "examples": {"train": len(train), "dev": len(dev),
                     "dev_sources": sorted({e.source for e in dev})},
        "train_seconds": round(train_seconds, 1),
        "docs_per_second": round(docs_per_second(pipelines, items)),
        **evaluation,
        **({"review": review} if review else {}),
    }
    if options.out_dir is not None:
        write_build(pipelines, meta, options.out_dir)
    return meta


def _fit_review(options: BuildOptions, config: Any, train: Sequence[CorpusExample],
                dev: Sequence[CorpusExample], pipelines: Mapping[str, Language | LinearModel],
                classifier: Classifier, evaluation: Mapping[str, Any]) -> dict[str, Any]:
    """The learned review flag (reviewfit.py) with its out-of-fold figures, for meta.json."""
    platt = Platt(**evaluation["calibration"]["platt"])
    architecture = options.variant.arch
    rows = out_of_fold(train, read_families(options.corpus_dir), classifier,
                       fold_trainer(config, options.variant, platt), options.review_folds)
    try:
        model, report = fit_review_model(rows)
    except ValueError as exc:  # a tiny corpus: every held-out answer right (or wrong)
        log.warning("no learned review flag: hand-made review reasons",
                    extra={"reason": str(exc)})
        return {"model": None, "skipped": str(exc)}
    report["method"] = ("logistic regression of a wrong answer on the decision's signals, "
                        f"fitted on answers out of fold ({options.review_folds} folds of whole "
                        "source families)")
    report["dev"] = _dev_review(dev, classifier.with_model(
        TrainedModel(pipelines, ModelInfo(architecture, "", "", platt, {}, model))))
    log.info("review flag fitted", extra={"threshold": report["threshold"],
                                          **report["out_of_fold"]["everyday"]})
    return {"model": model.to_json(), **report}


def fold_trainer(config: Any, variant: Variant, calibration: Platt | None
                 ) -> Callable[[Sequence[CorpusExample]], TrainedModel]:
    """Trains a model on some examples as the build does, with the given calibration: the
    models that answer out of fold (reviewfit.answers_out_of_fold)."""

    def train_model(examples: Sequence[CorpusExample]) -> TrainedModel:
        pipelines = train_pipelines(config, examples, variant.per_language, False, variant.arch)
        return TrainedModel(pipelines, ModelInfo(variant.arch, "", "", calibration, {}))

    return train_model


def _dev_review(dev: Sequence[CorpusExample], classifier: Classifier) -> dict[str, Any]:
    """What the learned flag does on the build's dev split (sources it was not fitted on)."""
    answers = [(classifier.classify("", e.text, language=e.language), e) for e in dev]
    return flag_figures(np.array([got.needs_review for got, _ in answers], dtype=bool),
                        np.array([is_wrong(got, e) for got, e in answers], dtype=bool))


def _labels(pipelines: Mapping[str, Language | LinearModel]) -> list[str]:
    """What the model gives a probability for: the rights, and the question column if trained."""
    first = next(iter(pipelines.values()), None)
    return list(first.labels) if isinstance(first, LinearModel) else list(RIGHTS)


def evaluate_dev(
    dev: Sequence[CorpusExample],
    probabilities: np.ndarray,
    rule_scores: Sequence[Mapping[str, float]],
    thresholds: Thresholds,
) -> dict[str, Any]:
    """Dev-split F1 of the model, the rules and their combination, plus the calibration."""
    gold = gold_matrix(dev)
    weights = (thresholds.model_weight, thresholds.model_weight_against)
    rule_yes = np.array([[s[r] >= thresholds.of(r) for r in RIGHTS] for s in rule_scores])
    combined = [_combined(s, p, *weights) for s, p in zip(rule_scores, probabilities, strict=True)]
    margins = np.array([[c[r] - thresholds.of(r) for r in RIGHTS] for c in combined])
    scan = {
        f"{w:g}/{a:g}": f1_report(
            _combined_margins(rule_scores, probabilities, thresholds, w, a) >= 0, gold
        )["micro_f1"]
        for w, a in WEIGHT_SCAN
    }

    platt = fit_platt(margins.ravel(), gold.ravel())
    held_out = _cross_fitted(dev, margins, gold)
    confidence, exact, review, disagreeing = [], [], [], 0
    for row, (scores, probs) in enumerate(zip(rule_scores, probabilities, strict=True)):
        by_right = dict(zip(RIGHTS, map(float, probs), strict=True))
        disagree = disagreements(scores, by_right, thresholds)
        decision = decide(combined[row], thresholds, disagree, held_out[row])
        disagreeing += bool(disagree)
        confidence.append(decision.confidence)
        wanted = {right for right, yes in zip(RIGHTS, gold[row], strict=True) if yes}
        exact.append(set(decision.rights) == wanted)
        review.append(decision.needs_review)
    message_ece = expected_calibration_error(confidence, exact)
    return {
        "dev": {
            "model": f1_report(probabilities >= 0.5, gold),
            "rules": f1_report(rule_yes, gold),
            "combined": f1_report(margins >= 0, gold),
            "combined_per_language": {
                lang: f1_report(margins[rows] >= 0, gold[rows])["micro_f1"]
                for lang in LANGUAGES
                if (rows := [i for i, e in enumerate(dev) if e.language == lang])
            },
            "model_weight": list(weights),
            "model_weight_scan_micro_f1": scan,
            "needs_review_share": round(float(np.mean(review)), 3),
            "disagreement_share": round(disagreeing / len(dev), 3),
            "exact_share_reviewed": _share(exact, review, True),
            "exact_share_not_reviewed": _share(exact, review, False),
        },
        "calibration": {
            "method": "Platt scaling of the combined margin (score - threshold), all rights pooled",
            "platt": platt.to_json(),
            "ece_message_cross_fitted": round(message_ece, 4),
            "reliability": [
                {"bin": lo, "confidence": round(c, 3), "accuracy": round(a, 3), "count": n}
                for lo, c, a, n in reliability(confidence, exact)
            ],
        },
    }


def _combined(
    rule_scores: Mapping[str, float], probs: np.ndarray, weight: float, against: float
) -> dict[str, float]:
    by_right = dict(zip(RIGHTS, map(float, probs), strict=True))
    return add_model(rule_scores, by_right, weight, against)[0]


def _combined_margins(
    rule_scores: Sequence[Mapping[str, float]],
    probabilities: np.ndarray,
    thresholds: Thresholds,
    weight: float,
    against: float,
) -> np.ndarray:
    pairs = zip(rule_scores, probabilities, strict=True)
    return np.array([
        [c[r] - thresholds.of(r) for r in RIGHTS]
        for c in (_combined(s, p, weight, against) for s, p in pairs)
    ])


def _cross_fitted(
    dev: Sequence[CorpusExample], margins: np.ndarray, gold: np.ndarray
) -> list[Platt]:
    """Per dev example, a calibration fitted on the other half of the dev sources (honest ECE)."""
    sources = sorted({e.source for e in dev})
    half = {source: index % 2 for index, source in enumerate(sources)}
    side = np.array([half[e.source] for e in dev])
    fits: dict[int, Platt] = {}
    for s in (0, 1):
        other = side != s
        if other.any() and gold[other].any() and (~gold[other]).any():
            fits[s] = fit_platt(margins[other].ravel(), gold[other].ravel())
        else:  # too few sources to hold one half out: fit on everything
            fits[s] = fit_platt(margins.ravel(), gold.ravel())
    return [fits[int(s)] for s in side]


def _share(exact: Sequence[bool], review: Sequence[bool], reviewed: bool) -> float | None:
    chosen = [e for e, r in zip(exact, review, strict=True) if r == reviewed]
    return round(sum(chosen) / len(chosen), 3) if chosen else None


def write_build(pipelines: Mapping[str, Language | LinearModel], meta: Mapping[str, Any],
                out_dir: Path) -> None:
    """Write pipelines and meta.json to a fresh directory, then swap it in for out_dir."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    fresh = out_dir.with_name(f".{out_dir.name}.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    (fresh / PIPELINES_DIR).mkdir(parents=True)
    for key, nlp in pipelines.items():
        if isinstance(nlp, LinearModel):
            nlp.save(fresh / PIPELINES_DIR / key)
        else:
            nlp.to_disk(fresh / PIPELINES_DIR / key)
    (fresh / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        out_dir.rename(old)
    fresh.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    log.info("model written", extra={"model_dir": str(out_dir)})
