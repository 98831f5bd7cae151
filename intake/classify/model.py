"""The seam for a trained model: per-right probabilities added to the rule scores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class RightModel(Protocol):
    """What the classifier needs from a trained text classifier (a later issue adds one).

    `probabilities` returns, per right or signal it knows, a probability in 0..1 that the
    message exercises it. Labels it does not return keep their rule score unchanged.
    """

    def probabilities(self, subject: str, text: str, language: str) -> Mapping[str, float]:
        """Per-label probabilities for one message."""
        ...
