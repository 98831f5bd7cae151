"""Per-language spaCy tokenization with folded NORM and a small lookup lemmatizer."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

import numpy
import spacy
from spacy.attrs import LEMMA, NORM, ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import load_language_data, registry
from spacy.vocab import Vocab

from intake.classify.normalize import fold

log = logging.getLogger(__name__)


class LanguagePipeline:
    """spacy.blank(lang) plus two token attributes the rules match on.

    NORM is the folded word (lowercase, no accents, plain apostrophe) and LEMMA the lookup
    lemma from spacy-lookups-data, or the lowercase word when the table does not know it.
    The lemma table keeps only the entries whose lemma a rule asks for: the full tables of the
    four languages cost ~270 MB of memory, the reduced ones a few kB.
    Both depend on the word alone, so they are worked out once per distinct word (ORTH) and
    written to the tokens in one array: per-token Python was a tenth of the classifier's time.
    """

    def __init__(self, lang: str, lemmas: Mapping[str, str] | None = None) -> None:
        self.lang = lang
        self.nlp: Language = spacy.blank(lang)
        self.lemmas: Mapping[str, str] = dict(lemmas or {})
        self._attrs: dict[int, tuple[int, int]] = {}  # ORTH -> (NORM, LEMMA) string ids

    @property
    def vocab(self) -> Vocab:
        """The vocabulary the matchers of this language must share."""
        return self.nlp.vocab

    def __call__(self, text: str) -> Doc:
        """Tokenize text and set NORM and LEMMA on every token."""
        doc = self.nlp.make_doc(text)
        if not len(doc):
            return doc
        orths = doc.to_array(ORTH).tolist()
        known = self._attrs
        # A set and a dict, not numpy.unique: a mail has a few dozen tokens, for which numpy's
        # sort and its call overhead cost twice as much.
        attrs = {orth: known.get(orth) or self._word_attrs(orth) for orth in set(orths)}
        doc.from_array([NORM, LEMMA],
                       numpy.array([attrs[orth] for orth in orths], dtype=numpy.uint64))
        return doc

    def _word_attrs(self, orth: int) -> tuple[int, int]:
        """The NORM and LEMMA string ids of a word, remembered when the vocabulary keeps it."""
        strings = self.nlp.vocab.strings
        values = word_attributes(strings[orth], self.lemmas)
        attrs = (strings.add(values["NORM"]), strings.add(values["LEMMA"]))
        if not self.nlp.vocab.in_memory_zone:  # a word of a memory zone is forgotten after it
            self._attrs[orth] = attrs
        return attrs


def word_attributes(text: str, lemmas: Mapping[str, str]) -> dict[str, str]:
    """TEXT, LOWER, NORM and LEMMA of one word, exactly as LanguagePipeline sets them on tokens."""
    lower = text.lower()
    return {"TEXT": text, "LOWER": lower, "NORM": fold(lower), "LEMMA": lemmas.get(lower, lower)}


def reduced_lemma_table(
    lang: str, lemmas: Iterable[str], lemma_regexes: Iterable[str] = ()
) -> dict[str, str]:
    """The lowercase word -> lemma entries of spacy-lookups-data whose lemma is wanted.

    A lemma is wanted when it is in `lemmas` or matches one of `lemma_regexes`.
    Empty when nothing is wanted or the language has no lookup table.
    """
    wanted = {lemma.lower() for lemma in lemmas}
    patterns = [re.compile(regex) for regex in lemma_regexes]
    if not wanted and not patterns:
        return {}
    tables = registry.lookups.get(lang) if lang in registry.lookups else {}
    if "lemma_lookup" not in tables:
        log.info("no lemma lookup table for %s: LEMMA patterns match the word itself", lang)
        return {}
    full: dict[str, str | list[str]] = load_language_data(tables["lemma_lookup"])
    reduced: dict[str, str] = {}
    for word, entry in full.items():
        # The French table maps a word to a list of lemmas ("a" -> ["avoir"]): take the first.
        lemma = entry if isinstance(entry, str) else (entry[0] if entry else word)
        folded = lemma.lower()
        if folded in wanted or any(p.search(folded) for p in patterns):
            reduced.setdefault(word.lower(), folded)
    del full
    log.debug("lemma table %s: %d entries kept", lang, len(reduced))
    return reduced
