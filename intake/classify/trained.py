"""The trained right classifier: loads models/build and gives per-right probabilities."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from intake.classify.calibration import Platt
from intake.classify.corpus import digest
from intake.classify.linear import LinearModel
from intake.classify.modeltext import (  # noqa: F401 (re-exported: tests and training use them)
    MAX_MODEL_CHARS,
    SUBWORD_PREFIX,
    model_text,
    model_words,
)
from intake.classify.review import ReviewModel
from intake.classify.vocabulary import NEW_WORDS_KEPT, VocabularyBound
from intake.config import DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)

META_FILE = "meta.json"
PIPELINES_DIR = "pipelines"
COMPONENT = "textcat_multilabel"
# The architecture name in meta.json of a linear model (linear.py); others are spaCy pipelines.
LINEAR = "linear"
# One pipeline for every language is stored under this key (spaCy's multi-language code).
ALL_LANGUAGES = "xx"



def rules_digest(rules_dir: str | Path) -> str:
    """SHA-256 of the rule files: a calibration is only valid for the rules it was fitted with."""
    return digest(sorted(Path(rules_dir).glob("*.yaml")))


def load_model(
    model_dir: str | Path = DEFAULT_MODEL_DIR, rules_dir: str | Path | None = None
) -> tuple[TrainedModel | None, str | None]:
    """(model, None), or (None, why) when there is none: the classifier then uses rules alone."""
    try:
        model = TrainedModel.load(model_dir)
    except ModelError as exc:
        log.warning("model not loaded: classifying on rules alone",
                    extra={"model_dir": str(model_dir), "reason": str(exc)})
        return None, f"no trained model at {model_dir}"
    if rules_dir is not None and model.info.rules_sha256 != rules_digest(rules_dir):
        log.warning("rules changed since the model was calibrated: retrain (intake model train)",
                    extra={"model_dir": str(model_dir), "rules_dir": str(rules_dir)})
    return model, None


class ModelError(RuntimeError):
    """A model directory that cannot be used (missing, incomplete, or from another version)."""


def model_doc(vocab: Vocab, subject: str, text: str) -> Doc:
    """The Doc the model reads (training and prediction alike): tokens of model_words."""
    return Doc(vocab, words=model_words(subject, text))


@dataclass(frozen=True)
class ModelInfo:
    """What meta.json says about a build: enough to explain and check it."""

    architecture: str
    corpus_sha256: str
    rules_sha256: str
    calibration: Platt | None
    raw: Mapping[str, Any]
    review: ReviewModel | None = None  # the learned review flag, when the build fitted one


class TrainedModel:
    """A RightModel over the linear model (linear.py) or a spaCy textcat_multilabel pipeline,
    one for all languages or one per language."""

    def __init__(
        self, pipelines: Mapping[str, Language | LinearModel], info: ModelInfo,
        new_words: int = NEW_WORDS_KEPT,
    ) -> None:
        self.pipelines = dict(pipelines)
        self.info = info
        # Read by the classifier: how combined margins map to probabilities, and when an
        # answer is likely wrong (see scoring.decide).
        self.calibration = info.calibration
        self.review = info.review
        spacy_pipelines = {key: nlp for key, nlp in self.pipelines.items()
                           if isinstance(nlp, Language)}
        self._components = {key: nlp.get_pipe(COMPONENT) for key, nlp in spacy_pipelines.items()}
        self._vocabularies = {key: VocabularyBound(nlp, f"model-{key}", new_words)
                              for key, nlp in spacy_pipelines.items()}
        # A reloaded classifier shares this model with the one finishing a message.
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, model_dir: str | Path = DEFAULT_MODEL_DIR, new_words: int = NEW_WORDS_KEPT
    ) -> TrainedModel:
        """Load a build written by `intake model train`; ModelError when it is not usable."""
        root = Path(model_dir)
        meta_path = root / META_FILE
        if not meta_path.is_file():
            raise ModelError(f"no model at {root} (missing {META_FILE}): run `intake model train`")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            linear = meta.get("architecture", {}).get("name") == LINEAR
            pipelines: dict[str, Language | LinearModel] = {
                key: LinearModel.load(root / PIPELINES_DIR / key) if linear
                else spacy.load(root / PIPELINES_DIR / key)
                for key in meta["pipelines"]
            }
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"model at {root} cannot be loaded: {exc}") from exc
        calibration = meta.get("calibration", {}).get("platt")
        try:
            review_json = meta.get("review", {}).get("model")
            review = ReviewModel.from_json(review_json) if review_json else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model at {root}: unusable review model: {exc}") from exc
        info = ModelInfo(
            architecture=str(meta.get("architecture", {}).get("name", "?")),
            corpus_sha256=str(meta.get("corpus_sha256", "")),
            rules_sha256=str(meta.get("rules_sha256", "")),
            calibration=Platt(**calibration) if calibration else None,
            raw=meta,
            review=review,
        )
        log.info("model loaded", extra={"model_dir": str(root), "arch": info.architecture,
                                        "corpus": info.corpus_sha256[:12]})
        return cls(pipelines, info, new_words)

    def probabilities(self, subject: str, text: str, language: str) -> Mapping[str, float]:
        """Per-right probability that the message exercises it."""
        key = self._key(language)
        model = self.pipelines[key]
        if isinstance(model, LinearModel):  # numpy only: no shared state, no lock
            values = model.probabilities(subject, text)
            return {label: floored(float(values[i])) for i, label in enumerate(model.labels)}
        component = self._components[key]
        with self._lock, self._vocabularies[key].zone():
            doc = model_doc(self.pipelines[key].vocab, subject, text)
            scores = component.predict([doc])[0]
        return {label: floored(float(scores[i])) for i, label in enumerate(component.labels)}


    def _key(self, language: str) -> str:
        """The pipeline for this language: its own, else the one for all languages."""
        return language if language in self.pipelines else next(iter(self.pipelines))

    def evidence(self, subject: str, text: str, language: str, label: str
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The words (features) that pushed the linear model most towards the label and
        against it; nothing for a spaCy pipeline, whose weights are not read out."""
        model = self.pipelines[self._key(language)]
        return model.evidence(subject, text, label) if isinstance(model, LinearModel) else ((), ())


# The bag-of-words model says ~0.00 or ~1.00 on wording unlike its corpus; no such certainty is
# warranted. Probabilities are squeezed into [PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR].
PROBABILITY_FLOOR = 0.02


def floored(probability: float) -> float:
    """The probability moved linearly into [floor, 1 - floor]."""
    return PROBABILITY_FLOOR + (1.0 - 2.0 * PROBABILITY_FLOOR) * min(1.0, max(0.0, probability))
