"""Classification of DPO mail: language, admin-tunable rules, scores and explanations."""

from intake.classify.engine import Classification, Classifier, RuleHit
from intake.classify.errors import RuleError
from intake.classify.labels import LANGUAGES, RIGHTS, SIGNALS
from intake.classify.language import detect_language
from intake.classify.model import RightModel

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
