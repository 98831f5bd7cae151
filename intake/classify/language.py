"""Language identification of a message: Dutch, French, English or German."""

from __future__ import annotations

import logging
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from intake.classify.labels import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)

_CODES: dict[Language, str] = {
    Language.DUTCH: "nl",
    Language.FRENCH: "fr",
    Language.ENGLISH: "en",
    Language.GERMAN: "de",
}

# The opening of a message decides its language; longer text only costs time.
MAX_CHARS = 2000

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def _get_detector() -> LanguageDetector:
    """The detector, built on first use (low-accuracy mode: ~10 MB instead of ~150 MB)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = (
                    LanguageDetectorBuilder.from_languages(*_CODES).with_low_accuracy_mode().build()
                )
                log.debug("language detector built for %s", sorted(_CODES.values()))
    return _detector


def detect_language(text: str) -> str:
    """Return "nl", "fr", "en" or "de" for text; "nl" when it is empty or undecidable."""
    sample = text[:MAX_CHARS].strip()
    if not any(ch.isalpha() for ch in sample):
        return DEFAULT_LANGUAGE
    found = _get_detector().detect_language_of(sample)
    return _CODES.get(found, DEFAULT_LANGUAGE) if found is not None else DEFAULT_LANGUAGE
