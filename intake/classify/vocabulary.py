"""A bound on what a spaCy vocabulary keeps: a daemon's memory must not grow with its mail."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from spacy.language import Language

log = logging.getLogger(__name__)

# Words a vocabulary keeps beyond those it held when it was built. A kept word costs ~0.9 kB in
# the rules' and the model's vocabularies together (lexemes, strings, tokenizer cache, our
# per-word caches); 20,000 of them ~17 MB (bench/vocabulary.py).
NEW_WORDS_KEPT = 20_000


class VocabularyBound:
    """Keeps the words of the first messages, then forgets each message's new words after it.

    spaCy adds every word it meets to the vocabulary for good, so a process that reads mail for
    months grows by about 1.2 kB per distinct word (random strings in spam included). Once
    `new_words` words have been added, each message is processed in a spaCy memory zone, which
    evicts the words (and strings) first met in that message when it ends. The words kept are
    the ones of the first messages, which are also the everyday ones, so their per-word work
    (lexeme flags, NORM/LEMMA, sieve bits) is still done once. What still grows is ~80 bytes
    per forgotten word: spaCy's hash tables (preshed) keep a deleted entry's slot.

    Not thread-safe: while a memory zone is open no other thread may use the vocabulary (the
    classifier and the model each serialize their use with a lock).
    """

    def __init__(self, nlp: Language, name: str, new_words: int = NEW_WORDS_KEPT) -> None:
        self._nlp = nlp
        self.name = name
        self.limit = len(nlp.vocab) + new_words
        # Once full, always full: spaCy's vocabulary length also counts evicted words.
        self.full = False

    def zone(self) -> AbstractContextManager[Any]:
        """The context to process one message in: a memory zone once the vocabulary is full."""
        if not self.full and len(self._nlp.vocab) >= self.limit:
            self.full = True
            log.info("vocabulary full: new words are forgotten after each message",
                     extra={"vocabulary": self.name, "words": len(self._nlp.vocab)})
        return self._nlp.memory_zone() if self.full else nullcontext()
