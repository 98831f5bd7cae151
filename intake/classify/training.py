"""Training of the right classifier on models/corpus: the linear model (default) or spaCy
textcat_multilabel (bag-of-words or ensemble, kept for `intake model compare`), seeded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from spacy import util
from spacy.language import Language
from spacy.training import Example
from thinc.api import Config
from tqdm import tqdm

from intake.classify.corpus import CorpusExample
from intake.classify.labels import LANGUAGES, RIGHTS
from intake.classify.linear import LinearModel, train_linear
from intake.classify.trained import ALL_LANGUAGES, COMPONENT, LINEAR, floored, model_doc

# The small ensemble compared against bag-of-words: a CNN over hashed word features plus the
# same bag-of-words, averaged. Wider/deeper CNNs were slower still.
ENSEMBLE_MODEL: dict[str, Any] = {
    "@architectures": "spacy.TextCatEnsemble.v2",
    "nO": None,
    "linear_model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": False,
        "length": 262144,
        "ngram_size": 2,
        "no_output_layer": False,
        "nO": None,
    },
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 64,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [5000, 1000, 2500, 2500],
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 64,
            "depth": 2,
            "window_size": 1,
            "maxout_pieces": 3,
        },
    },
}


@dataclass(frozen=True)
class Variant:
    """Which architecture to train, overriding models/config.cfg where given."""

    arch: str = LINEAR  # "linear", "config" (spaCy, as models/config.cfg says), "bow", "ensemble"
    ngram_size: int | None = None
    per_language: bool = False

    @property
    def name(self) -> str:
        return f"{self.arch}{'' if self.ngram_size is None else f'-ngram{self.ngram_size}'}" + (
            "-per-language" if self.per_language else ""
        )


def load_config(path: str | Path, variant: Variant = Variant(), seed: int | None = None) -> Config:
    """The spaCy config of models/config.cfg with the variant's overrides, interpolated."""
    config = util.load_config(Path(path), interpolate=False)
    model = config["components"][COMPONENT]["model"]
    if variant.arch == "ensemble":
        ensemble = {**ENSEMBLE_MODEL, "linear_model": dict(ENSEMBLE_MODEL["linear_model"])}
        if variant.ngram_size is not None:
            ensemble["linear_model"]["ngram_size"] = variant.ngram_size
        config["components"][COMPONENT]["model"] = ensemble
    elif variant.arch == "bow" or variant.ngram_size is not None:
        if variant.arch == "bow" and model.get("@architectures") != "spacy.TextCatBOW.v3":
            model = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False,
                     "length": 262144, "ngram_size": 2, "no_output_layer": False, "nO": None}
        if variant.ngram_size is not None:
            model["ngram_size"] = variant.ngram_size
        config["components"][COMPONENT]["model"] = model
    if seed is not None:
        config["system"]["seed"] = seed
    return config.interpolate()


def architecture_of(config: Config, variant: Variant = Variant()) -> dict[str, Any]:
    """A short description of the trained model for meta.json."""
    if variant.arch == LINEAR:
        from intake.classify.linear import DEFAULT_C, MIN_DOCUMENTS

        return {"name": LINEAR, "features": "tf-idf of words, 5-letter prefixes, word bigrams",
                "min_documents": MIN_DOCUMENTS, "C": DEFAULT_C,
                "estimator": "scikit-learn LogisticRegression per right, balanced classes"}
    model = config["components"][COMPONENT]["model"]
    name = model["@architectures"]
    linear = model.get("linear_model", model)
    return {"name": "ensemble" if "Ensemble" in name else "bow", "spacy": name,
            "ngram_size": linear.get("ngram_size")}


def _make_nlp(config: Config, lang: str) -> Language:
    copy = Config(config).copy()
    copy["nlp"]["lang"] = lang
    return util.load_model_from_config(copy, auto_fill=True, validate=True)


def _examples(nlp: Language, corpus: Iterable[CorpusExample]) -> list[Example]:
    return [
        Example.from_dict(
            model_doc(nlp.vocab, "", item.text),
            {"cats": {right: float(right in item.rights) for right in RIGHTS}},
        )
        for item in corpus
    ]


def _training_settings(config: Config) -> tuple[Any, Callable[..., Any], float, int]:
    """The optimizer, batcher, dropout and epoch count of the [training] block."""
    training = config["training"]
    resolved = util.registry.resolve(
        {"optimizer": training["optimizer"], "batcher": training["batcher"]}
    )
    epochs = int(training["max_epochs"])
    if epochs <= 0:
        raise ValueError("models/config.cfg: [training] max_epochs must be > 0")
    return resolved["optimizer"], resolved["batcher"], float(training["dropout"]), epochs


def train_pipelines(
    config: Config,
    train: Sequence[CorpusExample],
    per_language: bool = False,
    progress: bool = True,
    arch: str = "config",
) -> dict[str, Any]:
    """Train one model for all languages ("xx"), or one per language; seeded."""
    groups: dict[str, list[CorpusExample]]
    if per_language:
        groups = {lang: [e for e in train if e.language == lang] for lang in LANGUAGES}
    else:
        groups = {ALL_LANGUAGES: list(train)}
    if arch == LINEAR:
        return {key: train_linear([("", e.text) for e in items], [e.rights for e in items],
                                  kinds=[e.kind for e in items])
                for key, items in groups.items() if items}
    return {
        key: _train_one(config, key, items, progress) for key, items in groups.items() if items
    }


def _train_one(
    config: Config, lang: str, corpus: Sequence[CorpusExample], progress: bool
) -> Language:
    seed = int(config["training"]["seed"])
    util.fix_random_seed(seed)
    nlp = _make_nlp(config, lang)
    textcat = nlp.get_pipe(COMPONENT)
    for right in RIGHTS:
        textcat.add_label(right)
    examples = _examples(nlp, corpus)
    optimizer, batcher, dropout, epochs = _training_settings(config)
    util.fix_random_seed(seed)
    nlp.initialize(lambda: examples, sgd=optimizer)
    shuffler = random.Random(seed)
    bar = tqdm(range(epochs), desc=f"train {lang}", unit="epoch", disable=not progress,
               leave=False)
    for _ in bar:
        order = list(examples)
        shuffler.shuffle(order)
        losses: dict[str, float] = {}
        for batch in batcher(order):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        bar.set_postfix(loss=f"{losses.get(COMPONENT, 0.0):.3f}")
    return nlp


def predict(
    pipelines: Mapping[str, Any], items: Sequence[tuple[str, str, str]]
) -> np.ndarray:
    """Probabilities (rows: items, columns: RIGHTS) for (subject, text, language) items."""
    out = np.zeros((len(items), len(RIGHTS)))
    for row, (subject, text, language) in enumerate(items):
        key = language if language in pipelines else next(iter(pipelines))
        nlp = pipelines[key]
        if isinstance(nlp, LinearModel):
            values = nlp.probabilities(subject, text)
            for col, label in enumerate(nlp.labels):
                if label in RIGHTS:  # the question column is no right
                    out[row, RIGHTS.index(label)] = floored(float(values[col]))
            continue
        textcat = nlp.get_pipe(COMPONENT)
        scores = textcat.predict([model_doc(nlp.vocab, subject, text)])[0]
        for col, label in enumerate(textcat.labels):
            out[row, RIGHTS.index(label)] = floored(float(scores[col]))
    return out


def docs_per_second(pipelines: Mapping[str, Any], items: Sequence[tuple[str, str, str]],
                    rounds: int = 3) -> float:
    """Single-message prediction speed (as in the triage), best of a few rounds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        predict(pipelines, items)
        best = min(best, time.perf_counter() - start)
    return len(items) / best if best > 0 else float("inf")


def gold_matrix(corpus: Sequence[CorpusExample]) -> np.ndarray:
    """Booleans (rows: examples, columns: RIGHTS)."""
    return np.array([[right in e.rights for right in RIGHTS] for e in corpus], dtype=bool)


def f1_report(predicted: np.ndarray, gold: np.ndarray) -> dict[str, Any]:
    """Per-right precision, recall, F1 and support; micro and macro F1."""
    per_right: dict[str, dict[str, float]] = {}
    tp_all = fp_all = fn_all = 0
    f1s = []
    for col, right in enumerate(RIGHTS):
        p, g = predicted[:, col], gold[:, col]
        tp, fp, fn = int((p & g).sum()), int((p & ~g).sum()), int((~p & g).sum())
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
        if g.any():
            f1s.append(f1)
        per_right[right] = {
            "p": round(tp / (tp + fp), 3) if tp + fp else 1.0,
            "r": round(tp / (tp + fn), 3) if tp + fn else 1.0,
            "f1": round(f1, 3),
            "support": int(g.sum()),
        }
    denominator = 2 * tp_all + fp_all + fn_all
    exact = float(np.mean(np.all(predicted == gold, axis=1))) if len(gold) else 0.0
    return {
        "micro_f1": round(2 * tp_all / denominator, 3) if denominator else 1.0,
        "macro_f1": round(float(np.mean(f1s)), 3) if f1s else 1.0,
        "exact": round(exact, 3),
        "per_right": per_right,
    }
