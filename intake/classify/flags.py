"""Speed: token conditions of the rules computed once per word (spaCy lexeme flags).

spaCy's Matcher evaluates a `REGEX` or `IN` condition in Python at every token where a pattern
could be, which made it most of the classifier's time. A condition on LOWER, NORM, LEMMA or TEXT
depends only on the word itself here (NORM and LEMMA are derived from the lowercase word, see
pipeline.py), so it can become a lexeme flag: computed once when the vocabulary first sees the
word, then a bit test in C. A vocabulary has 46 free flag bits; the conditions that start a
pattern (tried at every token) get them first, the rest stay as they were. (Giving the next
bits to conditions after a gap first measured no better.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from spacy.vocab import Vocab

from intake.classify.normalize import fold

TokenSpec = Mapping[str, Any]
_ATTRS = ("LOWER", "NORM", "LEMMA", "TEXT")


class FlagCompiler:
    """Rewrites token patterns to use lexeme flags for REGEX and IN conditions where bits remain."""

    def __init__(self, vocab: Vocab, lemmas: Mapping[str, str]) -> None:
        self.vocab = vocab
        self.lemmas = lemmas
        self.flags: dict[tuple[str, str, Any], int] = {}
        self.full = False

    def rewrite(self, patterns: Iterable[list[TokenSpec]]) -> list[list[dict[Any, Any]]]:
        """The same patterns with flag conditions: first tokens first, then the rest."""
        rewritten = [[dict(token) for token in pattern] for pattern in patterns]
        for pattern in rewritten:
            if pattern:
                self._flag_token(pattern[0])
        for pattern in rewritten:
            for token in pattern[1:]:
                self._flag_token(token)
        return rewritten

    def _flag_token(self, token: dict[Any, Any]) -> None:
        for attr in _ATTRS:
            spec = token.get(attr)
            if not isinstance(spec, Mapping) or len(spec) != 1:
                continue
            ((op, operand),) = spec.items()
            flag = self._flag(attr, op, operand)
            if flag is not None:
                del token[attr]
                token[flag] = True

    def _flag(self, attr: str, op: str, operand: Any) -> int | None:
        if op == "REGEX" and isinstance(operand, str):
            key: tuple[str, str, Any] = (attr, op, operand)
        elif op == "IN" and isinstance(operand, list) and all(isinstance(v, str) for v in operand):
            key = (attr, op, frozenset(operand))
        else:
            return None
        if key in self.flags:
            return self.flags[key]
        if self.full:
            return None
        test: Callable[[str], bool]
        if op == "REGEX":
            compiled = re.compile(operand)
            test = lambda value: compiled.search(value) is not None  # noqa: E731
        else:
            test = key[2].__contains__
        value_of = self._value_of(attr)
        try:
            flag = self.vocab.add_flag(lambda text: test(value_of(text)))
        except ValueError:  # all 64 lexeme flag bits are taken: the condition stays as it was
            self.full = True
            return None
        self.flags[key] = flag
        return flag

    def _value_of(self, attr: str) -> Callable[[str], str]:
        """The token attribute as pipeline.LanguagePipeline sets it, from the word's text."""
        if attr == "TEXT":
            return lambda text: text
        if attr == "LOWER":
            return str.lower
        if attr == "NORM":
            return lambda text: fold(text.lower())
        lemmas = self.lemmas
        return lambda text: lemmas.get(text.lower(), text.lower())
