"""The bounded vocabulary: once full, a message's new words are forgotten; nothing else changes."""

from __future__ import annotations

import os
import random
import string
import sys
import threading
from pathlib import Path

import pytest

from intake.classify import Classifier
from intake.classify.labels import LANGUAGES
from intake.classify.trained import META_FILE, TrainedModel
from intake.classify.vocabulary import NEW_WORDS_KEPT
from tests.test_classify_sieve import corpus_texts

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "models" / "build"


def model_or_none(new_words: int) -> TrainedModel | None:
    if (MODEL_DIR / META_FILE).is_file():
        return TrainedModel.load(MODEL_DIR, new_words=new_words)
    if os.environ.get("CI") == "true":
        pytest.fail("no trained model in models/build: `make test` builds it first")
    return None  # the rules are still compared; the model's part is not


def classifier(new_words: int) -> Classifier:
    return Classifier.load(ROOT / "rules", model=model_or_none(new_words), new_words=new_words)


def random_words(rng: random.Random, count: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(count))


def test_forgetting_new_words_changes_no_classification() -> None:
    keeping, forgetting = classifier(NEW_WORDS_KEPT), classifier(0)
    # Every other text of the sieve's sample (~1,900 in four languages): three passes over all
    # ~3,800 took 83-137 s, the longest test of the suite.
    texts = [(lang, text) for lang, found in corpus_texts().items() for text in found][::2]
    assert len(texts) > 1500
    expected = [keeping.classify("", text, language=lang) for lang, text in texts]
    # Twice: the second time every word of the first pass has been forgotten again.
    for _ in range(2):
        got = [forgetting.classify("", text, language=lang) for lang, text in texts]
        assert got == expected
    assert all(forgetting._languages[lang].vocabulary.full for lang in LANGUAGES)
    assert not any(keeping._languages[lang].vocabulary.full for lang in LANGUAGES)
    assert sum(bool(c.rights) for c in expected) > len(texts) / 2


def test_a_full_vocabulary_stops_growing() -> None:
    rng = random.Random(5)
    bounded = classifier(50)
    engine = bounded._languages["nl"]
    vocab = engine.pipeline.vocab
    cached = len(engine.pipeline._attrs), len(engine.sieve._words)
    bounded.classify("", "Ik wil inzage in mijn gegevens. " + random_words(rng, 60), "nl")
    assert not engine.vocabulary.full  # the message that passes the bound keeps its words
    assert len(engine.pipeline._attrs) >= cached[0] + 60
    assert len(engine.sieve._words) >= cached[1] + 60
    bounded.classify("", "Ik wil inzage in mijn gegevens. " + random_words(rng, 60), "nl")
    assert engine.vocabulary.full  # 60 new words > 50: the next message's are forgotten
    sizes = (len(vocab.strings), len(engine.pipeline._attrs), len(engine.sieve._words))
    model = bounded.model
    # A spaCy model's vocabulary is bounded too; the linear model has none (it only looks up).
    spacy_models = [nlp for nlp in (model.pipelines.values() if model else ())
                    if hasattr(nlp, "vocab")]
    model_strings = [len(nlp.vocab.strings) for nlp in spacy_models]
    for _ in range(20):
        text = "Verwijder al mijn gegevens. " + random_words(rng, 60)
        result = bounded.classify("", text, "nl")
        assert "erasure" in result.rights
    assert (len(vocab.strings), len(engine.pipeline._attrs), len(engine.sieve._words)) == sizes
    unseen = text.split()[-1]
    assert unseen not in vocab.strings and unseen not in vocab
    if model is not None:
        assert all(bound.full for bound in model._vocabularies.values())
        assert [len(nlp.vocab.strings) for nlp in spacy_models] == model_strings


def test_two_threads_can_classify_with_one_classifier() -> None:
    shared = classifier(0)  # every message in a memory zone: the case a race would break
    texts = corpus_texts()["nl"][:300]
    expected = [shared.classify("", text, "nl") for text in texts]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            order = texts if worker == 0 else texts[::-1]
            found = [shared.classify("", text, "nl") for text in order]
            results[worker] = found if worker == 0 else found[::-1]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the two messages do interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert results[0] == expected and results[1] == expected
