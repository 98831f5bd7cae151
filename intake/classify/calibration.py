"""Platt scaling of score margins to probabilities, and the calibration error that checks it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RIDGE = 1e-3  # on the slope: a separable dev split must not give an infinite one


@dataclass(frozen=True)
class Platt:
    """P(yes | margin) = 1 / (1 + exp(-(slope * margin + intercept)))."""

    slope: float
    intercept: float

    def __call__(self, margin: float) -> float:
        z = self.slope * margin + self.intercept
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def to_json(self) -> dict[str, float]:
        return {"slope": round(self.slope, 6), "intercept": round(self.intercept, 6)}


def fit_platt(margins: Sequence[float], outcomes: Sequence[bool], iterations: int = 100) -> Platt:
    """Fit Platt scaling by Newton's method.

    Platt's smoothed targets and a light ridge on the slope keep the fit finite when the dev
    split is (nearly) separable, as it is for a small one.
    """
    x = np.asarray(margins, dtype=float)
    y = np.asarray(outcomes, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("calibration needs both outcomes among the examples")
    # Platt (1999): targets (N+ + 1)/(N+ + 2) and 1/(N- + 2) instead of 1 and 0.
    target = np.where(y, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    a, b = 1.0, math.log((positives + 1) / (negatives + 1))

    def loss(a: float, b: float) -> float:
        z = np.clip(a * x + b, -500, 500)
        # -log-likelihood with targets t: sum(log(1 + e^z) - t * z), plus the ridge.
        return float(np.sum(np.logaddexp(0, z) - target * z) + RIDGE * a * a / 2)

    current = loss(a, b)
    for _ in range(iterations):
        p = _sigmoid(a * x + b)
        weight = np.maximum(p * (1 - p), 1e-12)
        grad = np.array([np.sum((p - target) * x) + RIDGE * a, np.sum(p - target)])
        hessian = np.array(
            [[np.sum(weight * x * x) + RIDGE, np.sum(weight * x)],
             [np.sum(weight * x), np.sum(weight) + 1e-9]]
        )
        step = np.linalg.solve(hessian, grad)
        scale = 1.0
        while scale > 1e-8 and loss(a - scale * step[0], b - scale * step[1]) > current:
            scale /= 2  # Newton overshoots on nearly separable data: backtrack
        a, b = a - scale * step[0], b - scale * step[1]
        improved = current - loss(a, b)
        current = loss(a, b)
        if np.max(np.abs(scale * step)) < 1e-9 or improved < 1e-12:
            break
    return Platt(float(a), float(b))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE: the mean |accuracy - confidence| over equal-width bins, weighted by bin size."""
    rows = reliability(confidences, correct, bins)
    total = sum(count for _, _, _, count in rows)
    if total == 0:
        return 0.0
    return sum(count * abs(acc - conf) for _, conf, acc, count in rows) / total


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> list[tuple[float, float, float, int]]:
    """Per non-empty bin: (lower edge, mean confidence, accuracy, count)."""
    conf = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    index = np.minimum((conf * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        chosen = index == b
        count = int(chosen.sum())
        if count:
            rows.append((b / bins, float(conf[chosen].mean()), float(hit[chosen].mean()), count))
    return rows
