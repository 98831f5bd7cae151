"""What the trained model reads of a message: normalised text, words, word prefixes."""

from __future__ import annotations

import re

from intake.classify.normalize import replace_chars, without_accents

# Requests state themselves early; the model reads the opening, as the rules do.
MAX_MODEL_CHARS = 3000

# Words and single punctuation marks: ~8x faster than spaCy's multi-language tokenizer, and
# all a bag-of-words model needs.
_TOKEN = re.compile(r"\w+|[^\w\s]")
# Apostrophes the model reads as spaces (not U+02BC, unlike normalize.APOSTROPHES).
_APOSTROPHES = "\u2019\u2018'`\u00b4"


def model_text(subject: str, text: str) -> str:
    """What the model reads: subject and opening of the body, lowercase, without accents.

    Apostrophes become spaces so French elision ("l'effacement", "d’accès") yields the word.
    Training and prediction both go through here.
    """
    joined = f"{subject}\n{text[:MAX_MODEL_CHARS]}" if subject else text[:MAX_MODEL_CHARS]
    lowered = replace_chars(joined.lower(), _APOSTROPHES, " ")
    return lowered if lowered.isascii() else without_accents(lowered)


# Subword features that survive spelling variation ("verwijdert", "verwijderd", "verwijderen";
# "testresultaten", "testresultaat"): every word longer than SUBWORD_PREFIX letters also yields
# its first SUBWORD_PREFIX letters as an extra token ("verwi~"), hashed by the bag-of-words like
# a word; the mark keeps it apart from words. Measured 2026-12-06 (docs/classification.md):
# character 4-grams on top scored higher on the everyday dev split (micro 0.73 against 0.72) but
# lower on tests/eval (0.91 against 0.95) and cost more time, so only prefixes are used.
SUBWORD_MIN = 4
SUBWORD_PREFIX = 5


def model_words(subject: str, text: str, prefixes: bool = True) -> list[str]:
    """The tokens the model reads: words and punctuation of model_text, plus word prefixes."""
    words = _TOKEN.findall(model_text(subject, text))
    return words + word_prefixes(words) if prefixes else words


def word_prefixes(words: list[str]) -> list[str]:
    """The SUBWORD_PREFIX-letter prefix ("verwi~") of every word longer than that."""
    return [f"{word[:SUBWORD_PREFIX]}~" for word in words
            if len(word) > SUBWORD_PREFIX and word.isalpha()]


# Negation scope: "do NOT delete", "gelieve mijn dossier NIET te verwijderen", "ne supprimez
# pas", "löschen Sie es bitte nicht" ask for the opposite of the verb, but a bag of words counts
# the verb all the same. Every word near a negation, in the same clause, also yields a negated
# feature ("not:verwi"), so the model can learn that a negated "delete" is no erasure. The scope
# reaches back too: Dutch and German put the negation after the verb or the object. Leaving
# one everyday writer out (12 writers, model alone): micro-F1 0.851 -> 0.857 (forward 5 and
# back 4 words, so "löschen Sie meine Unterlagen nicht" reaches the verb; 4/3: 0.856; forward
# only: 0.854).
NEGATIONS = frozenset({
    "not", "never", "no", "nothing", "niet", "nie", "ni", "nooit", "geen", "gene", "niets",
    "niks", "nicht", "nichts", "kein", "keine", "keinen", "niemals", "pas", "jamais", "rien",
    "ne", "n",
})
# "don't" reaches the model as "don t" (apostrophes become spaces, see model_text).
_NEGATING_T = frozenset({"don", "doesn", "didn", "won", "can", "isn", "shouldn", "wouldn",
                         "mustn", "aren"})
_CLAUSE_END = frozenset(".,;:!?()[]\"—–-")
NEGATION_AFTER = 5
NEGATION_BEFORE = 4
NEGATED_MARK = "not:"


def negated_words(words: list[str]) -> list[str]:
    """The words within NEGATION_AFTER after and NEGATION_BEFORE before each negation, not
    crossing a clause boundary (duplicates kept: a word negated twice counts twice)."""
    found: list[str] = []
    for i, word in enumerate(words):
        if word not in NEGATIONS and not (word == "t" and i and words[i - 1] in _NEGATING_T):
            continue
        for step, reach in ((1, NEGATION_AFTER), (-1, NEGATION_BEFORE)):
            j, taken = i + step, 0
            while 0 <= j < len(words) and taken < reach and words[j] not in _CLAUSE_END:
                other = words[j]
                if other.isalpha() and other not in NEGATIONS and other not in _NEGATING_T:
                    found.append(other)
                    taken += 1
                j += step
    return found
