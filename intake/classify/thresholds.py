"""Per-right decision thresholds and review margin, read from rules/thresholds.yaml."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from intake.classify.errors import RuleError
from intake.classify.labels import LABELS, RIGHTS
from intake.classify.rules import THRESHOLDS_FILE, read_yaml

DEFAULT_THRESHOLD = 3.0
DEFAULT_REVIEW_MARGIN = 1.0
DEFAULT_MODEL_WEIGHT = 3.0
# The model's question probability from which, when it also exceeds every right's, the rights
# found are set aside for a question case (see scoring.decide). Leaving one everyday writer out
# (5,180 messages, out of fold): 54 questions and 1 "other" lost their false rights, no request
# lost its right (from 0.6: 56 questions and 1 other; from 0.8: 45 questions).
DEFAULT_QUESTION_OVER_RIGHTS = 0.7
# Points added to every right's threshold in a message that continues a known case (see
# Thresholds.for_followup); 0: none.
DEFAULT_FOLLOWUP_RAISE = 0.0

_KEYS = ("default", "review_margin", "model_weight", "model_weight_against",
         "question_model_weight", "question_model_weight_against", "question_over_rights",
         "followup_raise", "thresholds")


@dataclass(frozen=True)
class Thresholds:
    """The score a right or signal needs, and how close to it a decision is flagged for review."""

    default: float = DEFAULT_THRESHOLD
    per_label: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    review_margin: float = DEFAULT_REVIEW_MARGIN
    # How many score points a model probability of 1.0 adds (0.0 takes them away): see scoring.
    model_weight: float = DEFAULT_MODEL_WEIGHT
    # The same for a probability below 0.5 (evidence against a right); default: model_weight.
    model_weight_against: float = DEFAULT_MODEL_WEIGHT
    # The same for the model's "a question for the DPO" probability, which adds to the
    # "question" signal; default: model_weight and model_weight_against.
    question_model_weight: float | None = None
    question_model_weight_against: float | None = None
    # Set rights aside for a question when the model's question probability reaches this and
    # exceeds every right's (None: never).
    question_over_rights: float | None = DEFAULT_QUESTION_OVER_RIGHTS
    # Added to every right's threshold when the message continues a known case.
    followup_raise: float = DEFAULT_FOLLOWUP_RAISE

    def of(self, label: str) -> float:
        """The threshold of one right or signal."""
        return self.per_label.get(label, self.default)

    def model_weights(self, label: str) -> tuple[float, float]:
        """(weight, against) of the model's probability for one label (see scoring.model_points)."""
        if label == "question":
            weight = (self.model_weight if self.question_model_weight is None
                      else self.question_model_weight)
            against = (self.model_weight_against if self.question_model_weight_against is None
                       else self.question_model_weight_against)
            return weight, against
        return self.model_weight, self.model_weight_against

    def for_followup(self) -> Thresholds:
        """These thresholds for a message that continues a known case: every right's raised by
        `followup_raise`. A reply quotes, thanks and reports on the request it continues, in the
        words of that request; a right newly exercised in it must be said more clearly."""
        if not self.followup_raise:
            return self
        raised = {label: self.of(label) + self.followup_raise for label in RIGHTS}
        return replace(self, per_label=MappingProxyType({**self.per_label, **raised}))


def load_thresholds(rules_dir: str | Path) -> Thresholds:
    """Read rules_dir/thresholds.yaml; defaults when the file is absent; RuleError when wrong."""
    path = Path(rules_dir) / THRESHOLDS_FILE
    if not path.exists():
        return Thresholds()
    data = read_yaml(path)
    if data is None:
        return Thresholds()
    if not isinstance(data, Mapping):
        raise RuleError(path.name, None, "expected a mapping of keys")
    unknown = sorted(map(str, set(data) - set(_KEYS)))
    if unknown:
        raise RuleError(path.name, None, f"unknown key(s): {', '.join(unknown)}")
    default = _positive(path.name, "default", data.get("default", DEFAULT_THRESHOLD))
    margin = _number(path.name, "review_margin", data.get("review_margin", DEFAULT_REVIEW_MARGIN))
    if margin < 0:
        raise RuleError(path.name, "review_margin", "must not be negative")
    weight = _number(path.name, "model_weight", data.get("model_weight", DEFAULT_MODEL_WEIGHT))
    against = _number(path.name, "model_weight_against", data.get("model_weight_against", weight))
    question_weight = _number(path.name, "question_model_weight",
                              data.get("question_model_weight", weight))
    question_against = _number(path.name, "question_model_weight_against",
                               data.get("question_model_weight_against", against))
    over = data.get("question_over_rights", DEFAULT_QUESTION_OVER_RIGHTS)
    if over is not None:
        over = _number(path.name, "question_over_rights", over)
        if not 0.5 < over <= 1.0:
            raise RuleError(path.name, "question_over_rights",
                            "must be a probability above 0.5 (or null: never)")
    followup_raise = _number(path.name, "followup_raise",
                             data.get("followup_raise", DEFAULT_FOLLOWUP_RAISE))
    if followup_raise < 0:
        raise RuleError(path.name, "followup_raise", "must not be negative")
    per_label_raw = data.get("thresholds") or {}
    if not isinstance(per_label_raw, Mapping):
        raise RuleError(path.name, "thresholds", "expected a mapping of right: threshold")
    per_label: dict[str, float] = {}
    for label, value in per_label_raw.items():
        if label not in LABELS:
            raise RuleError(
                path.name, str(label), f"unknown right {label!r}; use one of: {', '.join(LABELS)}"
            )
        per_label[label] = _positive(path.name, label, value)
    return Thresholds(default, MappingProxyType(per_label), margin, weight, against,
                      question_weight, question_against, over, followup_raise)


def _number(file: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleError(file, key, f"must be a number, not {value!r}")
    return float(value)


def _positive(file: str, key: str, value: Any) -> float:
    number = _number(file, key, value)
    if number <= 0:
        raise RuleError(file, key, "a threshold must be greater than 0")
    return number
