"""The rule engine: matchers built once per language, one Classification per message."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from intake.classify.errors import RuleError
from intake.classify.exercise import apply as apply_mentioning
from intake.classify.exercise import assess as assess_mentioning
from intake.classify.flags import FlagCompiler
from intake.classify.labels import DEFAULT_LANGUAGE, LABELS, LANGUAGES, RIGHTS
from intake.classify.language import detect_message_language
from intake.classify.model import RightModel
from intake.classify.pipeline import LanguagePipeline, blank_vocab, reduced_lemma_table
from intake.classify.rules import Rule, load_rules
from intake.classify.scoring import (
    add_model,
    decide,
    disagreements,
    format_score,
    question_over_rights,
)
from intake.classify.sieve import RuleSieve
from intake.classify.thresholds import Thresholds, load_thresholds
from intake.classify.vocabulary import NEW_WORDS_KEPT, VocabularyBound

log = logging.getLogger(__name__)

MAX_SUBJECT_CHARS = 300  # real subjects are far shorter

# Only the opening of a very long body is read: requests state themselves early, and this
# bounds the time one hostile message can take.
MAX_TEXT_CHARS = 20_000
MATCHED_CHARS = 60
# The model weight the mentioning penalty (exercise.py) was sized against.
MENTION_REFERENCE_MODEL_WEIGHT = 6.0


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched: its score goes to its right once per message."""

    rule: str
    right: str
    score: float
    matched: str  # the matched text span, truncated to ~60 characters


@dataclass(frozen=True)
class Classification:
    """The verdict on one message, with the hits and the reasoning behind it."""

    language: str
    rights: tuple[str, ...]  # rights whose summed score >= their threshold, canonical order
    scores: Mapping[str, float]  # summed score per right and signal (all eleven labels)
    confidence: float  # 0..1: the least certain decision, see scoring.decide
    needs_review: bool
    topic: str  # "request" | "question" | "noise" | "unknown"
    hits: tuple[RuleHit, ...]
    explanation: tuple[str, ...]
    review_reasons: tuple[str, ...] = ()  # why needs_review (see scoring.decide)
    # the trained model's probability per label (empty without a model)
    probabilities: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    # rights that reached their threshold but were set aside for a question (scoring.decide)
    set_aside: tuple[str, ...] = ()
    rights_in_doubt: bool = False  # some review reason is about the rights, not only the topic
    # the signals the learned review flag reads, and its P(wrong) when the model has one
    review_features: tuple[float, ...] = ()
    p_wrong: float | None = None


class _LanguageRules:
    """The pipeline, rule sieve, token matchers and phrase matcher of one language."""

    def __init__(
        self,
        lang: str,
        rules: Sequence[Rule],
        new_words: int = NEW_WORDS_KEPT,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.lang = lang
        words, regexes = _lemma_needs(rules)
        lemmas = reduced_lemma_table(lang, words, regexes, cache_dir=cache_dir)
        vocab = blank_vocab(lang)
        # The patterns as written are checked by spaCy once; the matcher that runs uses lexeme
        # flags for its REGEX/IN conditions (flags.py), which spaCy's validation does not know.
        check_patterns(rules, vocab)
        flags = FlagCompiler(vocab, lemmas)
        with_patterns = [rule for rule in rules if rule.patterns]
        # Patterns of all rules go to the compiler together, so first tokens get the flags first.
        # The flags are added while the vocabulary is still empty: spaCy's add_flag walks every
        # word the vocabulary has, once per flag (the Dutch tokenizer's special cases alone
        # make 9,400 words, 46 flags: ~0.4 s); added first, each word gets its flags once, when
        # the tokenizer creates it. The same flag numbers and the same words either way.
        rewritten = flags.rewrite([list(p) for rule in with_patterns for p in rule.patterns])
        self.pipeline = LanguagePipeline(lang, lemmas, vocab=vocab)
        self.phrases = PhraseMatcher(vocab, attr="NORM")
        by_rule: dict[str, list[list[dict[Any, Any]]]] = {}
        position = 0
        for rule in with_patterns:
            by_rule[rule.name] = rewritten[position : position + len(rule.patterns)]
            position += len(rule.patterns)
        # One matcher per group of patterns that need the same words, run only when the sieve
        # finds those words in the text.
        self.sieve = RuleSieve(vocab.strings, self.pipeline.lemmas,
                               {rule.name: rule.patterns for rule in with_patterns})
        self.matchers: list[Matcher] = []
        for members in self.sieve.members:
            patterns_of: dict[str, list[list[dict[Any, Any]]]] = {}
            for name, position in members:
                patterns_of.setdefault(name, []).append(by_rule[name][position])
            matcher = Matcher(vocab, validate=False)
            for name, patterns in patterns_of.items():
                matcher.add(name, patterns)
            self.matchers.append(matcher)
        for rule in rules:
            if rule.phrases:
                self.phrases.add(rule.name, [self.pipeline(p) for p in rule.phrases])
        # Counted from here: the words of the patterns and phrases are kept for good.
        self.vocabulary = VocabularyBound(self.pipeline.nlp, f"rules-{lang}", new_words)

    def matches(self, doc: Doc) -> list[tuple[str, int, int]]:
        """(rule name, start, end) of every token and phrase match in doc, in text order."""
        strings = self.pipeline.vocab.strings
        # A set, as one matcher of all patterns would give: two patterns of a rule in two
        # groups can find the same span.
        tokens: set[tuple[str, int, int]] = set()
        for group in self.sieve.possible(doc):
            tokens.update((strings[m], s, e) for m, s, e in self.matchers[group](doc))
        found = list(tokens)
        if len(self.phrases):
            found += [(strings[m], s, e) for m, s, e in self.phrases(doc)]
        found.sort(key=lambda item: (item[1], item[2], item[0]))
        return found


def check_patterns(rules: Iterable[Rule], vocab: Vocab | None = None) -> None:
    """spaCy's own check of every token pattern; RuleError for the first it refuses.

    The check does not depend on the language, so a blank vocabulary does for rules whose
    language is not built yet: a bad pattern is refused at start, not at the first message in
    that language.
    """
    checker = Matcher(vocab if vocab is not None else Vocab(), validate=True)
    for rule in rules:
        if not rule.patterns:
            continue
        try:
            checker.add(rule.name, [list(p) for p in rule.patterns])
        except (ValueError, TypeError, KeyError) as exc:
            raise RuleError(rule.file, rule.name, f"bad pattern: {_short(exc)}") from exc


class _Engines(Mapping[str, _LanguageRules]):
    """The rule engines of the four languages, each built on first use (or by `build`).

    Building one takes 0.1-2.5 s (spaCy's French tokenizer alone ~2 s): a worker that has just
    started builds Dutch first and the others after it took up its first mail.
    """

    def __init__(self, build: Callable[[str], _LanguageRules]) -> None:
        self._build = build
        self._built: dict[str, _LanguageRules] = {}
        self._locks = {lang: threading.Lock() for lang in LANGUAGES}

    def __getitem__(self, lang: str) -> _LanguageRules:
        return self.ensure(lang)

    def ensure(self, lang: str) -> _LanguageRules:
        """The engine of lang, built now if it is not yet; KeyError for another language."""
        engine = self._built.get(lang)
        if engine is not None:
            return engine
        if lang not in self._locks:
            raise KeyError(lang)
        with self._locks[lang]:  # two threads asking at once: one builds, the other waits
            engine = self._built.get(lang)
            if engine is None:
                started = time.perf_counter()
                engine = self._build(lang)
                self._built[lang] = engine
                log.debug("rules of language %s built in %.2f s", lang,
                          time.perf_counter() - started)
        return engine

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)

    def built(self) -> tuple[str, ...]:
        return tuple(lang for lang in LANGUAGES if lang in self._built)


class Classifier:
    """Rule-based classifier of DPO mail; load once, classify many messages."""

    def __init__(
        self,
        rules: Sequence[Rule],
        thresholds: Thresholds,
        model: RightModel | None = None,
        model_note: str | None = None,
        new_words: int = NEW_WORDS_KEPT,
        eager: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        """`new_words`: how many words each language's vocabulary keeps (see vocabulary.py).

        `eager=False` builds a language's matchers when it is first needed (or by `warm()`);
        every pattern is checked now all the same, so a bad rule raises RuleError here.
        Results do not depend on it. `cache_dir`: where reduced lemma tables are kept between
        starts (pipeline.reduced_lemma_table), e.g. the model's build directory.
        """
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.thresholds = thresholds
        self.model = model
        # Why there is no model (said in every explanation), when one was expected.
        self.model_note = model_note
        self._by_name = {rule.name: rule for rule in self.rules}
        self._order = {rule.name: index for index, rule in enumerate(self.rules)}
        self._new_words = new_words
        self._cache_dir = cache_dir
        self._languages = _Engines(self._build_language)
        # One message at a time: a memory zone must not see another thread's Doc (vocabulary.py).
        self._lock = threading.Lock()
        if eager:
            self.warm()
        else:
            check_patterns(self.rules)
        log.info("classifier loaded: %d rules", len(self.rules))

    def with_model(self, model: RightModel | None) -> Classifier:
        """This classifier with another model, sharing the built matchers (model training
        answers held-out folds with models that never saw them, see reviewfit.py)."""
        other = copy.copy(self)
        other.model = model
        other.model_note = None
        return other

    def _build_language(self, lang: str) -> _LanguageRules:
        rules = [r for r in self.rules if lang in r.languages]
        return _LanguageRules(lang, rules, self._new_words, self._cache_dir)

    def warm(self, languages: Iterable[str] | None = None) -> None:
        """Build the matchers of these languages (all by default, Dutch first) now."""
        wanted = list(languages) if languages is not None else [
            DEFAULT_LANGUAGE, *(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)]
        for lang in wanted:
            self._languages.ensure(lang)

    @property
    def languages_built(self) -> tuple[str, ...]:
        """The languages whose matchers are built (all once `warm()` ran)."""
        return self._languages.built()

    @classmethod
    def load(
        cls,
        rules_dir: str | Path,
        model: RightModel | None = None,
        model_note: str | None = None,
        new_words: int = NEW_WORDS_KEPT,
        eager: bool = True,
        cache_dir: str | Path | None = None,
    ) -> Classifier:
        """Read rules and thresholds from rules_dir and build the matchers; raises RuleError."""
        return cls(load_rules(rules_dir), load_thresholds(rules_dir), model, model_note, new_words,
                   eager=eager, cache_dir=cache_dir)

    def classify(self, subject: str, text: str, language: str | None = None,
                 followup: bool = False) -> Classification:
        """Classify one message; `language` skips detection when it is nl, fr, en or de;
        `followup`: it continues a known case (thresholds raised, see Thresholds.for_followup).

        Safe to call from several threads: the spaCy part runs one message at a time.
        """
        body = text[:MAX_TEXT_CHARS]
        thresholds = self.thresholds.for_followup() if followup else self.thresholds
        subject = subject[:MAX_SUBJECT_CHARS]  # a subject is one line; garbage must not weigh
        if language is not None and language in LANGUAGES:
            lang = language
        else:
            lang = detect_message_language(subject, body)
        engine = self._languages[lang]

        first: dict[str, str] = {}
        # The Docs live only inside this block: once the vocabulary is full, their new words
        # are forgotten when it ends.
        with self._lock, engine.vocabulary.zone():
            for part in (subject, body):
                if not part:
                    continue
                doc = engine.pipeline(part)
                for name, start, end in engine.matches(doc):
                    if name not in first:  # a rule's first match; its text only then
                        first[name] = doc[start:end].text
        hits = tuple(
            sorted(
                (self._hit(name, matched) for name, matched in first.items()),
                key=lambda hit: (LABELS.index(hit.right), self._order[hit.rule]),
            )
        )

        # Rules marked with_other_right count only when some other right is exercised: they are
        # held back until the others are known (e.g. "if you do not answer I will complain"
        # at the end of an erasure request).
        held = [hit for hit in hits if self._by_name[hit.rule].with_other_right]
        scores = dict.fromkeys(LABELS, 0.0)
        for hit in hits:
            if hit not in held:
                scores[hit.right] += hit.score
        explanation = [
            f"{hit.rule} {format_score(hit.score)} {hit.right}: matched '{hit.matched}'"
            for hit in hits
            if hit not in held
        ]
        probabilities = None
        combined = dict(scores)  # rules + model points; `scores` stays the rules' own
        model_lines: list[str] = []
        if self.model is not None:
            probabilities = self.model.probabilities(subject, body, lang)
            combined, model_lines = add_model(scores, probabilities, thresholds.model_weight,
                                              thresholds.model_weight_against,
                                              thresholds.model_weights)
        # Mentioning a right is not exercising it (exercise.py): points off every right.
        # Only worth reading when some right would be exercised without it.
        reached = any(combined[r] >= thresholds.of(r) for r in RIGHTS)
        mention = assess_mentioning(subject, body) if reached else None
        if mention is not None and mention.line:
            scores = apply_mentioning(scores, RIGHTS, mention)
            scale = self._mention_scale()
            combined = apply_mentioning(combined, RIGHTS, mention, scale)
            explanation.append(mention.line if scale == 1.0 else
                               f"{mention.line} (x{scale:.2f} with the model: "
                               f"-{mention.penalty * scale:.1f})")
        # "Another right is exercised" is judged with that right's own in-passing counter-rules
        # applied, so two rights merely named in one letter cannot vouch for each other.
        settled = dict(combined)
        for hit in held:
            if hit.score < 0:
                settled[hit.right] += hit.score
        for hit in held:
            others = [r for r in RIGHTS
                      if r != hit.right and settled[r] >= thresholds.of(r)]
            line = f"{hit.rule} {format_score(hit.score)} {hit.right}: matched '{hit.matched}'"
            if others:
                scores[hit.right] += hit.score
                combined[hit.right] += hit.score
                explanation.append(f"{line} (counts: {', '.join(others)} exercised)")
            else:
                explanation.append(f"{line} (not counted: no other right exercised)")
        disagree: tuple[str, ...] = ()
        calibration = None
        if self.model is not None and probabilities is not None:
            disagree = disagreements(scores, probabilities, thresholds)
            # Where the model alone adds or vetoes a right, or alone says "a question", the
            # words it read are shown.
            shown = disagree
            if "question" in probabilities and (probabilities["question"] >= 0.5) != (
                    scores["question"] >= thresholds.of("question")):
                shown = (*disagree, "question")
            explanation += [self._with_evidence(line, subject, body, lang, shown, probabilities)
                            for line in model_lines]
            # A trained model may bring the calibration of combined margins (see scoring).
            calibration = getattr(self.model, "calibration", None)
        elif self.model_note:
            explanation.append(f"model: none, rules only ({self.model_note})")
        scores = combined

        question_over = (question_over_rights(probabilities, thresholds)
                         if probabilities is not None else None)
        review = getattr(self.model, "review", None) if probabilities is not None else None
        decision = decide(scores, thresholds, disagree, calibration, question_over,
                          probabilities, review)
        if thresholds is not self.thresholds:
            raise_ = format_score(thresholds.followup_raise)
            explanation.append(f"thresholds of the rights {raise_}: the message continues a "
                               "known case (followup_raise)")
        return Classification(
            language=lang,
            rights=decision.rights,
            scores=MappingProxyType({k: round(v, 3) for k, v in scores.items()}),
            confidence=decision.confidence,
            needs_review=decision.needs_review,
            topic=decision.topic,
            hits=hits,
            explanation=(*explanation, *decision.lines),
            review_reasons=decision.review_reasons,
            probabilities=MappingProxyType(dict(probabilities or {})),
            set_aside=decision.set_aside,
            rights_in_doubt=decision.rights_in_doubt,
            review_features=decision.features,
            p_wrong=decision.p_wrong,
        )

    def _mention_scale(self) -> float:
        """How much the mentioning penalty weighs against rules + model.

        Its cues were weighed against rule scores and a model worth 6 points; a model worth more
        can carry a mentioned right over the threshold on the same words, so the penalty grows
        with the model's weight (measured: docs/classification.md).
        """
        if self.model is None:
            return 1.0
        return max(1.0, self.thresholds.model_weight / MENTION_REFERENCE_MODEL_WEIGHT)

    def _with_evidence(self, line: str, subject: str, body: str, lang: str,
                       disagree: Sequence[str], probabilities: Mapping[str, float]) -> str:
        label = line.split()[1]  # "model <label> <p> <points>" (scoring.add_model)
        evidence = getattr(self.model, "evidence", None)
        if label not in disagree or evidence is None:
            return line
        towards, against = evidence(subject, body, lang, label)
        words = towards if probabilities[label] >= 0.5 else against
        return f"{line} (words: {', '.join(repr(w) for w in words)})" if words else line

    def _hit(self, name: str, matched: str) -> RuleHit:
        rule = self._by_name[name]
        span = " ".join(matched.split())
        if len(span) > MATCHED_CHARS:
            span = span[: MATCHED_CHARS - 1] + "…"
        return RuleHit(rule.name, rule.right, rule.score, span)


def _lemma_needs(rules: Iterable[Rule]) -> tuple[set[str], list[str]]:
    """The LEMMA values and LEMMA regexes the patterns of these rules use."""
    words: set[str] = set()
    regexes: list[str] = []
    for rule in rules:
        for pattern in rule.patterns:
            for token in pattern:
                spec: Any = token.get("LEMMA")
                if isinstance(spec, str):
                    words.add(spec)
                elif isinstance(spec, Mapping):
                    for op, operand in spec.items():
                        if op == "REGEX" and isinstance(operand, str):
                            regexes.append(operand)
                        elif op == "IN" and isinstance(operand, list):
                            words.update(v for v in operand if isinstance(v, str))
    return words, regexes


def _short(exc: Exception) -> str:
    """The useful lines of a spaCy pattern error, on one line."""
    lines = [line.strip("- ").strip() for line in str(exc).splitlines()]
    detail = [line for line in lines if line.startswith("[")] or [line for line in lines if line]
    return "; ".join(detail)[:300]
