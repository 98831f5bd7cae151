"""Folding of words for matching: lowercase, no accents, one kind of apostrophe."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return text lowercased, without diacritics, with typographic apostrophes made plain.

    "Données" -> "donnees", "l’effacement" -> "l'effacement", "Behörde" -> "behorde".
    """
    lowered = text.lower().translate(_APOSTROPHES)
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
