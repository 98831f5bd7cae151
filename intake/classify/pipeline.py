"""Per-language spaCy tokenization with folded NORM and a small lookup lemmatizer."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import IO

import ijson
import numpy
import spacy
from spacy.attrs import LEMMA, NORM, ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import get_lang_class, registry
from spacy.vocab import Vocab, create_vocab

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

    def __init__(
        self, lang: str, lemmas: Mapping[str, str] | None = None, vocab: Vocab | None = None
    ) -> None:
        """`vocab`: a vocabulary from blank_vocab(lang), e.g. with lexeme flags added already."""
        self.lang = lang
        self.nlp: Language = spacy.blank(lang, vocab=vocab if vocab is not None else True)
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


def blank_vocab(lang: str) -> Vocab:
    """The vocabulary spacy.blank(lang) would make, before its tokenizer adds any word."""
    lang_class = get_lang_class(lang)
    vocab = create_vocab(lang, lang_class.Defaults)
    vectors = {"vectors": lang_class.default_config["nlp"]["vectors"]}
    vocab.vectors = registry.resolve(vectors)["vectors"](vocab)
    return vocab


def word_attributes(text: str, lemmas: Mapping[str, str]) -> dict[str, str]:
    """TEXT, LOWER, NORM and LEMMA of one word, exactly as LanguagePipeline sets them on tokens."""
    lower = text.lower()
    return {"TEXT": text, "LOWER": lower, "NORM": fold(lower), "LEMMA": lemmas.get(lower, lower)}


# Bump when the reduction below changes: cached tables of an older version are not used.
LEMMA_CACHE_VERSION = 1


def reduced_lemma_table(
    lang: str,
    lemmas: Iterable[str],
    lemma_regexes: Iterable[str] = (),
    cache_dir: str | Path | None = None,
) -> dict[str, str]:
    """The lowercase word -> lemma entries of spacy-lookups-data whose lemma is wanted.

    A lemma is wanted when it is in `lemmas` or matches one of `lemma_regexes`.
    Empty when nothing is wanted or the language has no lookup table.

    The full table is streamed, never held (German's alone would add ~90 MB to the peak memory
    of the worker, at start or when an admin's rule asks for another lemma). Reading it takes
    0.05-0.2 s per language; with `cache_dir` the reduced table is kept there, under a hash of
    everything it is computed from (language, wanted lemmas and regexes, the spacy-lookups-data
    version, this code's version): a rule that asks for another lemma gives another hash, so a
    stale table is never used.
    """
    wanted = {lemma.lower() for lemma in lemmas}
    regexes = list(lemma_regexes)
    if not wanted and not regexes:
        return {}
    key = _lemma_cache_key(lang, wanted, regexes) if cache_dir is not None else ""
    if cache_dir is not None:
        cached = _read_lemma_cache(Path(cache_dir), lang, key)
        if cached is not None:
            return cached
    reduced = _reduce_lemma_table(lang, wanted, [re.compile(regex) for regex in regexes])
    if cache_dir is not None:
        _write_lemma_cache(Path(cache_dir), lang, key, reduced)
    return reduced


def _reduce_lemma_table(lang: str, wanted: set[str], patterns: list[re.Pattern[str]]
                        ) -> dict[str, str]:
    tables = registry.lookups.get(lang) if lang in registry.lookups else {}
    if "lemma_lookup" not in tables:
        log.info("no lemma lookup table for %s: LEMMA patterns match the word itself", lang)
        return {}
    reduced: dict[str, str] = {}
    with _open_language_data(Path(tables["lemma_lookup"])) as handle:
        for word, entry in ijson.kvitems(handle, ""):
            # The French table maps a word to a list of lemmas ("a" -> ["avoir"]): take the
            # first.
            lemma = entry if isinstance(entry, str) else (entry[0] if entry else word)
            folded = lemma.lower()
            if folded in wanted or any(p.search(folded) for p in patterns):
                reduced.setdefault(word.lower(), folded)
    log.debug("lemma table %s: %d entries kept", lang, len(reduced))
    return reduced


def _open_language_data(path: Path) -> IO[bytes]:
    """The JSON file of a spacy-lookups-data table, as spacy.util.load_language_data finds it:
    the path itself, or the path with ".gz"."""
    if path.exists():
        return path.open("rb")
    gzipped = path.with_name(path.name + ".gz")
    if gzipped.exists():
        return gzip.open(gzipped, "rb")
    raise FileNotFoundError(f"no lookup table at {path} or {gzipped}")


def _lemma_cache_key(lang: str, wanted: set[str], regexes: list[str]) -> str:
    try:
        data_version = metadata.version("spacy-lookups-data")
    except metadata.PackageNotFoundError:
        data_version = "none"
    source = json.dumps([LEMMA_CACHE_VERSION, lang, data_version, sorted(wanted), regexes])
    return hashlib.sha256(source.encode()).hexdigest()


def _lemma_cache_file(cache_dir: Path, lang: str) -> Path:
    return cache_dir / f"lemmas-{lang}.json"


def _read_lemma_cache(cache_dir: Path, lang: str, key: str) -> dict[str, str] | None:
    """The cached table if its file names this very key; None otherwise (or unreadable)."""
    try:
        data = json.loads(_lemma_cache_file(cache_dir, lang).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    table = data.get("lemmas")
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        return None
    log.debug("lemma table %s: %d entries from the cache", lang, len(table))
    return table


def _write_lemma_cache(cache_dir: Path, lang: str, key: str, table: dict[str, str]) -> None:
    """Keep the table for the next start; a directory we may not write to only costs time.

    The file holds words of spaCy's public lookup tables, nothing of any message (0644).
    Written to a temporary file and renamed, so a reader never sees half a table.
    """
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".lemmas-{lang}-", dir=cache_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"key": key, "lang": lang, "lemmas": table}, handle,
                          ensure_ascii=False)  # insertion order kept, as computed
            os.chmod(tmp, 0o644)
            os.replace(tmp, _lemma_cache_file(cache_dir, lang))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("lemma table %s not cached: %s", lang, exc)
