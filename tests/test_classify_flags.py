"""Lexeme flags stand in for REGEX/IN token conditions: the same matches, faster."""

from __future__ import annotations

from spacy.matcher import Matcher

from intake.classify.flags import FlagCompiler
from intake.classify.pipeline import LanguagePipeline

PATTERNS = [
    [{"NORM": {"REGEX": "^(suppri|effac)"}}, {"OP": "{0,2}"}, {"NORM": {"IN": ["donnees", "mes"]}}],
    [{"LOWER": {"IN": ["wis", "schrap"]}}, {"LOWER": {"IN": ["mij", "me"]}}],
    [{"LEMMA": {"IN": ["delete"]}}, {"LOWER": "my"}],
    [{"TEXT": {"IN": ["GBA", "VTC"]}}],
    [{"NORM": {"REGEX": "gegevens$", "NOT_IN": ["contactgegevens"]}}],  # two operators: kept
]
TEXTS = [
    "Veuillez effacer mes données, supprimez tout et EFFACEZ les Données.",
    "Wis mij uit uw bestanden of schrap me, maar niet WIS ME nu.",
    "Please deleted my account; I deleted my data; delete my stuff.",
    "Ik ga naar de GBA of de gba of de VTC.",
    "Mijn persoonsgegevens en contactgegevens.",
]


def matches(pipeline: LanguagePipeline, matcher: Matcher, text: str) -> list[tuple[str, int, int]]:
    doc = pipeline(text)
    strings = pipeline.vocab.strings
    return sorted((strings[m], s, e) for m, s, e in matcher(doc))


def test_flags_match_exactly_what_the_conditions_match() -> None:
    lemmas = {"deleted": "delete", "delete": "delete"}
    plain_pipeline = LanguagePipeline("en", lemmas)
    plain = Matcher(plain_pipeline.vocab, validate=True)
    flagged_pipeline = LanguagePipeline("en", lemmas)
    compiler = FlagCompiler(flagged_pipeline.vocab, lemmas)
    flagged = Matcher(flagged_pipeline.vocab, validate=False)
    rewritten = compiler.rewrite(PATTERNS)
    for number, (original, fast) in enumerate(zip(PATTERNS, rewritten, strict=True)):
        plain.add(f"P{number}", [original])
        flagged.add(f"P{number}", [fast])
    assert any(isinstance(key, int) for token in rewritten[0] for key in token)
    assert rewritten[4] == PATTERNS[4]  # REGEX together with NOT_IN stays a condition
    for text in TEXTS:
        assert matches(flagged_pipeline, flagged, text) == matches(plain_pipeline, plain, text)
    assert matches(flagged_pipeline, flagged, TEXTS[0])  # and they do match something


def test_conditions_stay_when_the_flag_bits_run_out() -> None:
    pipeline = LanguagePipeline("nl", {})
    compiler = FlagCompiler(pipeline.vocab, {})
    many = [[{"NORM": {"REGEX": f"^woord{n}$"}}] for n in range(80)]
    rewritten = compiler.rewrite(many)
    assert compiler.full and len(compiler.flags) < 80
    assert rewritten[-1] == many[-1]  # no bit left: the REGEX condition is kept as written
    matcher = Matcher(pipeline.vocab, validate=False)
    for number, pattern in enumerate(rewritten):
        matcher.add(f"W{number}", [pattern])
    found = {pipeline.vocab.strings[m] for m, _, _ in matcher(pipeline("woord3 en woord79"))}
    assert found == {"W3", "W79"}
