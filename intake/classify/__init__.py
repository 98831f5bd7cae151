"""Classification of DPO mail: language, admin-tunable rules, scores and explanations."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from intake.classify.errors import RuleError
from intake.classify.labels import LANGUAGES, RIGHTS, SIGNALS
from intake.classify.model import RightModel

if TYPE_CHECKING:
    from intake.classify.engine import Classification, Classifier, RuleHit
    from intake.classify.language import detect_language

# spaCy and lingua take ~1 s to import: the names that need them are imported on first use,
# so what only reads rules or labels (and the worker's main thread at start) does not wait.
_LAZY = {
    "Classification": "intake.classify.engine",
    "Classifier": "intake.classify.engine",
    "RuleHit": "intake.classify.engine",
    "detect_language": "intake.classify.language",
}

__all__ = [
    "LANGUAGES",
    "RIGHTS",
    "SIGNALS",
    "Classification",
    "Classifier",
    "RightModel",
    "RuleError",
    "RuleHit",
    "detect_language",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
