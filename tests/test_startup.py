"""The worker's fast start: a deferred pipeline, languages built on demand, cached lemma tables."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from intake.classify.engine import Classifier
from intake.classify.errors import RuleError
from intake.classify.pipeline import reduced_lemma_table
from intake.startup import DeferredPipeline

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
TEXTS = [
    ("Inzage", "Beste, graag wil ik inzage in mijn persoonsgegevens. Met vriendelijke groet, Jan"),
    ("", "Madame, je demande l'effacement de mes données personnelles. Cordialement"),
    ("Data", "Please delete all personal data you hold about me. Kind regards"),
    ("", "Ich bitte um Auskunft über meine gespeicherten Daten. Mit freundlichen Grüßen"),
]


def snapshot(classifier: Classifier) -> list[str]:
    out = []
    for subject, text in TEXTS:
        r = classifier.classify(subject, text)
        out.append(json.dumps([r.language, r.rights, dict(r.scores), r.confidence,
                               r.needs_review, r.topic, [h.rule for h in r.hits],
                               list(r.explanation)], ensure_ascii=False))
    return out


def test_languages_on_demand_classify_the_same(tmp_path):
    eager = Classifier.load(RULES)
    lazy = Classifier.load(RULES, eager=False, cache_dir=tmp_path)
    assert lazy.languages_built == ()
    assert snapshot(lazy) == snapshot(eager)
    assert set(lazy.languages_built) == {"nl", "fr", "en", "de"}
    cached = Classifier.load(RULES, eager=False, cache_dir=tmp_path)  # lemma tables from cache
    cached.warm()
    cached_files = {p.name for p in tmp_path.iterdir()}  # languages whose rules ask for lemmas
    assert cached_files
    assert cached_files <= {f"lemmas-{lang}.json" for lang in ("nl", "fr", "en", "de")}
    assert snapshot(cached) == snapshot(eager)


def test_a_bad_pattern_is_refused_at_start_in_any_language(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in RULES.glob("*.yaml"):
        (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (rules / "zz_bad.yaml").write_text(
        "rules:\n  - name: BAD_FR\n    description: bad\n    right: access\n    score: 1\n"
        "    languages: [fr]\n    patterns:\n      - [{LOWER: {NOPE: 1}}]\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        Classifier.load(rules, eager=False)  # French is not built, its patterns are checked
    assert caught.value.rule == "BAD_FR"


def test_lemma_cache_is_keyed_by_what_the_rules_ask(tmp_path):
    first = reduced_lemma_table("nl", {"verwijderen"}, cache_dir=tmp_path)
    assert first == reduced_lemma_table("nl", {"verwijderen"})
    assert first and set(first.values()) == {"verwijderen"}
    # A rule now asks for another lemma: another key, the table is computed again, not served.
    second = reduced_lemma_table("nl", {"verwijderen", "inzien"}, cache_dir=tmp_path)
    assert "inzien" in set(second.values()) and second != first
    assert second == reduced_lemma_table("nl", {"verwijderen", "inzien"})
    # A damaged cache file is ignored.
    (tmp_path / "lemmas-nl.json").write_text("{not json", encoding="utf-8")
    assert reduced_lemma_table("nl", {"verwijderen"}, cache_dir=tmp_path) == first


def test_streamed_lemma_table_equals_the_table_spacy_loads():
    """The table is streamed; what is kept is what the whole table, as spaCy loads it, gives."""
    from spacy.util import load_language_data, registry

    wanted, regex = {"auskunft", "löschen"}, r"^lösch|ung$"
    full = load_language_data(registry.lookups.get("de")["lemma_lookup"])
    expected: dict[str, str] = {}
    for word, lemma in full.items():
        if lemma.lower() in wanted or re.search(regex, lemma.lower()):
            expected.setdefault(word.lower(), lemma.lower())
    streamed = reduced_lemma_table("de", wanted, [regex])
    assert len(streamed) > 1000 and list(streamed.items()) == list(expected.items())
    # French maps a word to a list of lemmas: the first is kept.
    assert reduced_lemma_table("fr", {"avoir"}).get("a") == "avoir"


def test_reducing_the_largest_lemma_table_keeps_the_peak_memory_flat():
    """German's table held whole adds 30-90 MB to the worker's peak; streamed, about 1 MB."""
    script = (
        "import resource\n"
        "from intake.classify.pipeline import reduced_lemma_table\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "table = reduced_lemma_table('de', {'auskunft', 'löschen'})\n"
        "assert table, 'nothing kept'\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert int(done.stdout.strip()) < 10, done.stdout


def test_deferred_pipeline_waits_and_reports_failure():
    gate = threading.Event()
    built = object()
    deferred = DeferredPipeline(lambda: (gate.wait(10), built)[1])  # type: ignore[arg-type,return-value]
    assert not deferred.ready()
    with pytest.raises(TimeoutError):
        deferred.wait(timeout=0.05)
    gate.set()
    assert deferred.wait(timeout=10) is built and deferred.ready()

    failures: list[BaseException] = []

    def broken():
        raise RuleError("x.yaml", "R", "bad")

    failed = DeferredPipeline(broken, on_error=failures.append)
    with pytest.raises(RuleError):
        failed.wait(timeout=10)
    assert failed.ready() and isinstance(failures[0], RuleError)
