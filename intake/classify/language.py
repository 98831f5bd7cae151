"""Language identification of a message: Dutch, French, English or German."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from itertools import islice

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
# A subject is a line, not a text: a 5,000-character garbage RFC 2047 subject must not outweigh
# the body (issue 13). It is cut, and it is only read with the body when the body is short.
MAX_SUBJECT_CHARS = 150
BODY_LETTERS_ENOUGH = 80

# Speed: most mail is plainly one of the four languages, which its commonest little words show.
# Only words that belong to one of the four (not "de", "die", "is", "in", "je", "we", "of", "du",
# "als") count; when enough of them agree, lingua (0.25-0.4 ms a text) is not asked.
_FUNCTION_WORDS = {
    "nl": "het een niet ik jullie uw graag mijn zijn voor met naar ook bij deze dit wat heb "
          "hebt heeft wordt worden kunnen zou geen maar nog dat om u zich werd hierbij gegevens",
    "fr": "le la les et vous votre vos mes mon ma est pas une des pour que qui dans sur avec "
          "mais nous ce cette au aux ne suis sont être données demande",
    "en": "the and my you your please would with this that have for not are will which what "
          "from been should any our hereby data request",
    "de": "und ich nicht ist eine einer meine meiner meinen mir mich sie bitte wir ihre ihnen "
          "werden wurde dass das der den dem zu für über sehr auch nach auf daten",
}
_WORD_LANGUAGE = {
    word: lang for lang, words in _FUNCTION_WORDS.items() for word in words.split()
}
_WORD = re.compile(r"[^\W\d_]+")
MIN_VOTES = 6  # little words needed before their vote is trusted
MIN_SHARE = 0.85  # share of those words the leading language must have

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
    if not any(map(str.isalpha, sample)):
        return DEFAULT_LANGUAGE
    voted = _function_word_vote(sample)
    if voted is not None:
        return voted
    found = _get_detector().detect_language_of(sample)
    return _CODES.get(found, DEFAULT_LANGUAGE) if found is not None else DEFAULT_LANGUAGE


def detect_message_language(subject: str, body: str) -> str:
    """The language of a message: the body's when it says enough, else the body with the
    (capped) subject in front."""
    sample = body[:MAX_CHARS]
    # Has the body BODY_LETTERS_ENOUGH letters? Counting stops at the last one needed.
    letters = filter(str.isalpha, sample)
    if next(islice(letters, BODY_LETTERS_ENOUGH - 1, None), None) is not None:
        return detect_language(sample)
    return detect_language(f"{subject[:MAX_SUBJECT_CHARS]}\n{sample}")


def _function_word_vote(sample: str) -> str | None:
    """The language the little words of sample agree on, or None when they do not clearly."""
    votes = Counter(filter(None, map(_WORD_LANGUAGE.get, _WORD.findall(sample.lower()))))
    total = sum(votes.values())
    if total < MIN_VOTES:
        return None
    lang, count = votes.most_common(1)[0]
    return lang if count >= MIN_SHARE * total else None
