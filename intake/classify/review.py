"""The learned review flag: how likely the classifier's answer is wrong, from its own signals.

Hand-made review reasons (a score near its threshold, rules and model disagreeing, ...) each
catch some wrong answers, but together they flag more than half of the everyday mail. A small
logistic regression over the same signals (`review_features`) estimates P(wrong) instead; it is
fitted by `intake model train` on answers the classifier gave to training messages it had not
been trained on (a cross-fit grouped by writer, see reviewfit.py), and its threshold is the
highest that still flags the chosen share of those wrong answers. Admins see the probability
and the signals behind it in the explanation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake.classify.labels import RIGHTS
from intake.classify.thresholds import Thresholds

# A margin (score - threshold) further out than this says nothing more.
MARGIN_CLIP = 12.0

FEATURES: tuple[str, ...] = (
    "rights",  # how many rights were decided
    "topic_request", "topic_question", "topic_noise", "topic_unknown",
    "confidence",  # calibrated P(every right decision is right), or the certainty rule
    "log_confidence",
    "weakest_yes",  # the smallest margin of a right decided yes (0 without one)
    "strongest_no",  # the largest (least negative) margin of a right decided no
    "near_rights",  # rights within the review margin of their threshold
    "near_signals",  # question / noise within it
    "partial",  # no right, yet some right with positive evidence
    "disagree",  # rights on which rules alone and model alone disagree
    "set_aside",  # rights set aside for a question
    "model_doubt_sum",  # sum over rights of min(p, 1 - p)
    "model_doubt_max",  # the largest of them
    "model_top",  # the model's highest right probability
    "question_p",  # the model's question probability (0 without the column)
    "question_margin",
    "noise_margin",
)


def _clip(margin: float) -> float:
    return max(-MARGIN_CLIP, min(MARGIN_CLIP, margin))


def review_features(
    score: Mapping[str, float],
    thresholds: Thresholds,
    probabilities: Mapping[str, float],
    confidence: float,
    topic: str,
    rights: Sequence[str],
    near: Sequence[str],
    partial: bool,
    disagree: Sequence[str],
    set_aside: Sequence[str],
) -> tuple[float, ...]:
    """The signals of one decision, in the order of FEATURES."""
    margins = {label: _clip(score.get(label, 0.0) - thresholds.of(label))
               for label in (*RIGHTS, "question", "noise")}
    decided = set(rights) | set(set_aside)
    yes = [margins[r] for r in RIGHTS if r in decided]
    no = [margins[r] for r in RIGHTS if r not in decided]
    doubts = [min(p, 1.0 - p) for r, p in probabilities.items() if r in RIGHTS]
    tops = [p for r, p in probabilities.items() if r in RIGHTS]
    values = {
        "rights": float(len(rights)),
        "topic_request": float(topic == "request"),
        "topic_question": float(topic == "question"),
        "topic_noise": float(topic == "noise"),
        "topic_unknown": float(topic == "unknown"),
        "confidence": confidence,
        "log_confidence": math.log(max(confidence, 1e-4)),
        "weakest_yes": min(yes) if yes else 0.0,
        "strongest_no": max(no) if no else -MARGIN_CLIP,
        "near_rights": float(sum(label in RIGHTS for label in near)),
        "near_signals": float(sum(label not in RIGHTS for label in near)),
        "partial": float(partial),
        "disagree": float(len(disagree)),
        "set_aside": float(bool(set_aside)),
        "model_doubt_sum": sum(doubts),
        "model_doubt_max": max(doubts, default=0.0),
        "model_top": max(tops, default=0.0),
        "question_p": float(probabilities.get("question", 0.0)),
        "question_margin": margins["question"],
        "noise_margin": margins["noise"],
    }
    return tuple(values[name] for name in FEATURES)


@dataclass(frozen=True)
class ReviewModel:
    """P(wrong) = sigmoid(intercept + sum(weight * (feature - mean) / scale)); flag at threshold."""

    weights: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float
    features: tuple[str, ...] = FEATURES

    def p_wrong(self, features: Sequence[float]) -> float:
        """The estimated probability that the decision these signals describe is wrong."""
        z = self.intercept + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, features, self.means, self.scales, strict=True))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "intercept": round(self.intercept, 6), "means": [round(m, 6) for m in self.means],
                "scales": [round(s, 6) for s in self.scales], "threshold": round(self.threshold, 6)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReviewModel | None:
        """The model meta.json describes; None when it was fitted on other features (an older
        build): the hand-made review reasons apply then."""
        features = tuple(data.get("features", ()))
        if features != FEATURES:
            return None
        model = cls(tuple(map(float, data["weights"])), float(data["intercept"]),
                    tuple(map(float, data["means"])), tuple(map(float, data["scales"])),
                    float(data["threshold"]), features)
        if not len(model.weights) == len(model.means) == len(model.scales) == len(FEATURES):
            raise ValueError("review model: one weight, mean and scale per feature")
        return model
