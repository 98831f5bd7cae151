"""The rule sieve and per-word NORM/LEMMA: fewer patterns run, exactly the same matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.matcher import Matcher
from spacy.tokens import Doc

from intake.classify import Classifier
from intake.classify.labels import LANGUAGES
from intake.classify.normalize import fold
from intake.classify.pipeline import LanguagePipeline
from intake.classify.rules import Rule
from intake.classify.sieve import RuleSieve

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = {
    "ERASE": [[{"NORM": {"REGEX": "^(suppri|effac)"}}, {"OP": "{0,3}"}, {"NORM": "donnees"}]],
    "FORGET": [[{"LOWER": {"IN": ["vergeet", "schrap"]}}, {"LOWER": "mij", "OP": "?"}]],
    "DELETE": [[{"LEMMA": "delete"}, {"LOWER": "my"}], [{"TEXT": "GDPR"}, {"OP": "+"}]],
    "DELETE_TOO": [[{"LEMMA": "delete"}, {"LOWER": "my"}], [{"TEXT": "GDPR"}, {"OP": "+"}]],
    "NOT_PINNED": [[{"LOWER": {"NOT_IN": ["x"]}}, {"LENGTH": {">=": 3}}]],
}


def possible_rules(sieve: RuleSieve, doc: Doc) -> set[str]:
    return {name for index in sieve.possible(doc) for name in sieve.groups[index]}


def test_a_rule_runs_only_when_the_words_it_needs_are_there() -> None:
    pipeline = LanguagePipeline("en", {"deleted": "delete"})
    sieve = RuleSieve(pipeline.vocab.strings, pipeline.lemmas, PATTERNS)
    assert sieve.conditions == 6  # the REGEX, IN, EQ words; NOT_IN and LENGTH pin nothing
    assert ("DELETE", "DELETE_TOO") in sieve.groups  # the same needs: one matcher
    assert possible_rules(sieve, pipeline("nothing relevant")) == {"NOT_PINNED"}
    # Optional tokens ("?", "{0,3}") are not needed; an accent-free NORM meets "données".
    found = possible_rules(sieve, pipeline("Effacez les Données. Vergeet het."))
    assert found == {"ERASE", "FORGET", "NOT_PINNED"}
    # Either pattern of a rule will do; LEMMA and TEXT are read like the pipeline sets them.
    assert "DELETE" in possible_rules(sieve, pipeline("I deleted my account"))
    assert "DELETE" in possible_rules(sieve, pipeline("Under the GDPR please"))
    assert "DELETE" not in possible_rules(sieve, pipeline("under the gdpr please"))


def reference_doc(pipeline: LanguagePipeline, text: str) -> Doc:
    """NORM and LEMMA set token by token, as the pipeline did before it worked per word."""
    doc = pipeline.nlp.make_doc(text)
    for token in doc:
        token.norm_ = fold(token.lower_)
        token.lemma_ = pipeline.lemmas.get(token.lower_, token.lower_)
    return doc


# The everyday mail is most of the corpus (5,700 lines); every EVERYDAY_STRIDE-th of them, beside
# all the letters, keeps these whole-corpus comparisons at ~3,500 varied texts (the full set
# made the vocabulary test alone take over two minutes).
EVERYDAY_STRIDE = 4


def corpus_texts() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in sorted((ROOT / "models" / "corpus").glob("*.jsonl")):
        stride = EVERYDAY_STRIDE if path.name.startswith("everyday") else 1
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for line in lines[::stride]:
            example = json.loads(line)
            texts[example["language"]].append(example["text"])
    return texts


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(ROOT / "rules")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_sieved_matchers_find_what_one_plain_matcher_finds(
    classifier: Classifier, lang: str
) -> None:
    engine = classifier._languages[lang]
    rules: list[Rule] = [r for r in classifier.rules if lang in r.languages and r.patterns]
    plain = Matcher(engine.pipeline.vocab, validate=True)
    for rule in rules:
        plain.add(rule.name, [list(p) for p in rule.patterns])
    strings = engine.pipeline.vocab.strings
    texts = corpus_texts()[lang]
    assert len(texts) > 300
    matched = 0
    for text in texts:
        doc = reference_doc(engine.pipeline, text)
        expected = sorted((strings[m], s, e) for m, s, e in [*plain(doc), *engine.phrases(doc)])
        ours = sorted(engine.matches(engine.pipeline(text)))
        assert ours == expected, text[:80]
        matched += bool(expected)
    assert matched > len(texts) / 2  # the comparison is not between two empty lists
