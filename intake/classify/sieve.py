"""Speed: a rule's token patterns run only on text holding the words they cannot do without.

spaCy's Matcher tries every pattern at every token, so its cost grows with patterns × tokens,
while a message hits only a handful of rules. A token of a pattern that is not optional names a
word (LOWER/NORM/LEMMA/TEXT equal to a value, IN a list, or matching a REGEX); the pattern cannot
match text in which no word meets it. Each such condition gets a bit; every distinct word gets,
once, the bits of the conditions it meets; a text's bits are those of its words. A pattern is
run only when all its bits are in the text's. That is a necessary condition only
(it ignores order and which token meets which bit), so the matches are exactly those of running
every rule; only the work is less. Patterns that need the same words form one group, run by one
matcher, whatever rules they belong to: a rule's other patterns, whose words are not in the
text, are not tried at every token (the matcher's work grows with patterns x tokens; a call
itself costs little more than a pass over the tokens).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from spacy.attrs import ORTH
from spacy.strings import StringStore
from spacy.tokens import Doc

from intake.classify.pipeline import word_attributes

TokenSpec = Mapping[str, Any]
# The word attributes as pipeline.LanguagePipeline sets them; ORTH is spaCy's name for TEXT.
_VALUES = ("TEXT", "LOWER", "NORM", "LEMMA")
_ATTRS = (*_VALUES, "ORTH")
# Operators that let a token be absent: such a token names no word the pattern needs.
_OPTIONAL_OPS = ("?", "*", "!")


class RuleSieve:
    """Which groups of rules can match a text, from the words their patterns require."""

    def __init__(
        self,
        strings: StringStore,
        lemmas: Mapping[str, str],
        patterns: Mapping[str, Sequence[Sequence[TokenSpec]]],
    ) -> None:
        self._strings = strings
        self._lemmas = lemmas
        self._equal: dict[str, dict[str, int]] = {attr: {} for attr in _VALUES}
        self._regexes: list[tuple[str, re.Pattern[str], int]] = []
        self._bits: dict[tuple[str, str, Any], int] = {}
        # The patterns (rule name, index among the rule's patterns) that need the same bits.
        by_need: dict[int, list[tuple[str, int]]] = {}
        for name, rule_patterns in patterns.items():
            for position, pattern in enumerate(rule_patterns):
                by_need.setdefault(self._pattern_bits(pattern), []).append((name, position))
        # Per group: its patterns, and the rules they belong to (each rule once).
        self.members: tuple[tuple[tuple[str, int], ...], ...] = tuple(
            tuple(members) for members in by_need.values())
        self.groups: tuple[tuple[str, ...], ...] = tuple(
            tuple(dict.fromkeys(name for name, _ in members)) for members in self.members)
        # (bits, index) of every group: one loop per text.
        self._needs: tuple[tuple[int, int], ...] = tuple(
            (need, index) for index, need in enumerate(by_need))
        # ORTH -> bits of the conditions the word meets, for the words the vocabulary keeps
        # (none are added inside a memory zone, see vocabulary.py).
        self._words: dict[int, int] = {}

    @property
    def conditions(self) -> int:
        """How many distinct word conditions the patterns hold."""
        return len(self._bits)

    def possible(self, doc: Doc) -> list[int]:
        """The indices (in `groups`) of the pattern groups that could match doc."""
        present = 0
        words = self._words
        keep = not doc.vocab.in_memory_zone
        for orth in set(doc.to_array(ORTH).tolist()):
            bits = words.get(orth)
            if bits is None:
                bits = self._word_bits(orth, keep)
            present |= bits
        absent = ~present  # a pattern is possible when none of its bits is absent
        return [index for need, index in self._needs if not need & absent]

    def _pattern_bits(self, pattern: Sequence[TokenSpec]) -> int:
        bits = 0
        for token in pattern:
            if token.get("OP") in _OPTIONAL_OPS or _may_repeat_zero(token.get("OP")):
                continue
            for attr in _ATTRS:
                if attr in token:
                    bits |= self._condition_bit(attr, token[attr])
        return bits

    def _condition_bit(self, attr: str, spec: Any) -> int:
        """The bit of one word condition, or 0 when it is not one the sieve understands."""
        key_attr = "TEXT" if attr == "ORTH" else attr
        if isinstance(spec, str):
            key: tuple[str, str, Any] = (key_attr, "EQ", spec)
        elif isinstance(spec, Mapping) and len(spec) == 1:
            ((op, operand),) = spec.items()
            words = isinstance(operand, list) and all(isinstance(v, str) for v in operand)
            if op == "IN" and words:
                key = (key_attr, "IN", frozenset(operand))
            elif op == "REGEX" and isinstance(operand, str):
                key = (key_attr, "REGEX", operand)
            else:
                return 0
        else:  # NOT_IN, several operators, numbers: the word is not pinned down
            return 0
        if key in self._bits:
            return self._bits[key]
        bit = 1 << len(self._bits)
        self._bits[key] = bit
        kind, operand = key[1], key[2]
        if kind == "REGEX":
            self._regexes.append((key_attr, re.compile(operand), bit))
        else:
            for value in ([operand] if kind == "EQ" else operand):
                equal = self._equal[key_attr]
                equal[value] = equal.get(value, 0) | bit
        return bit

    def _word_bits(self, orth: int, keep: bool = True) -> int:
        """The bits of the conditions one word meets; remembered when `keep`."""
        text = self._strings[orth]
        values = word_attributes(text, self._lemmas)
        bits = 0
        for attr, value in values.items():
            bits |= self._equal[attr].get(value, 0)
        for attr, regex, bit in self._regexes:
            if regex.search(values[attr]):
                bits |= bit
        if keep:
            self._words[orth] = bits
        return bits


def _may_repeat_zero(op: Any) -> bool:
    """True for the counted operators that allow zero tokens: {0,4}, {,3}, {0}."""
    if not isinstance(op, str) or not op.startswith("{"):
        return False
    low = op[1:].split(",", 1)[0].rstrip("}").strip()
    return low in ("", "0")

