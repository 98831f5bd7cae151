"""Loading rule and threshold files: every validation problem names file, rule and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classify import Classifier, RuleError
from intake.classify.rules import load_rules
from intake.classify.thresholds import load_thresholds

GOOD_RULE = """
  - name: ACCESS_TEST
    description: Test rule.
    right: access
    score: 4.0
    languages: [nl]
    phrases: ["inzage in mijn dossier"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def rule_file(body: str) -> str:
    return "rules:\n" + body


def error_for(tmp_path: Path, body: str) -> RuleError:
    write(tmp_path, "test.yaml", rule_file(body))
    with pytest.raises(RuleError) as caught:
        Classifier.load(tmp_path)
    return caught.value


def test_good_rule_loads_and_matches(tmp_path: Path) -> None:
    write(tmp_path, "access.yaml", rule_file(GOOD_RULE))
    classifier = Classifier.load(tmp_path)
    result = classifier.classify("", "Graag inzage in mijn dossier.", language="nl")
    assert result.rights == ("access",)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="no such rules directory"):
        load_rules(tmp_path / "absent")


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"no rule files"):
        load_rules(tmp_path)


def test_invalid_yaml(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "rules: [\n  - name: X\n")
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.file == "broken.yaml"
    assert "not valid YAML" in caught.value.problem


def test_top_level_must_be_rules(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", "- name: A\n")
    with pytest.raises(RuleError, match="top-level key 'rules'"):
        load_rules(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "rule", "problem"),
    [
        ("    right: access\n", "", "ACCESS_TEST", "missing key(s): right"),
        ("    description: Test rule.\n", "", "ACCESS_TEST", "missing key(s): description"),
        ("right: access", "right: acess", "ACCESS_TEST", "unknown right 'acess'"),
        ("name: ACCESS_TEST", "name: access-test", "access-test", "UPPER_SNAKE_CASE"),
        ("score: 4.0", "score: high", "ACCESS_TEST", "score must be a number"),
        ("score: 4.0", "score: 0", "ACCESS_TEST", "score must not be 0"),
        ("languages: [nl]", "languages: [es]", "ACCESS_TEST", "unknown language(s)"),
        ("languages: [nl]", "languages: []", "ACCESS_TEST", "languages must be a non-empty list"),
        (
            '    phrases: ["inzage in mijn dossier"]\n',
            "",
            "ACCESS_TEST",
            "needs 'patterns' or 'phrases'",
        ),
        ('phrases: ["inzage in mijn dossier"]', 'phrases: [""]', "ACCESS_TEST", "bad phrase"),
        (
            "    score: 4.0\n",
            "    score: 4.0\n    scroe: 1\n",
            "ACCESS_TEST",
            "unknown key(s): scroe",
        ),
    ],
)
def test_rule_validation(tmp_path: Path, old: str, new: str, rule: str, problem: str) -> None:
    assert old in GOOD_RULE
    error = error_for(tmp_path, GOOD_RULE.replace(old, new))
    assert error.file == "test.yaml"
    assert error.rule == rule
    assert problem in error.problem
    assert str(error).startswith(f"test.yaml: {rule}: ")


def test_rule_without_name_is_named_by_position(tmp_path: Path) -> None:
    error = error_for(
        tmp_path,
        GOOD_RULE + GOOD_RULE.replace("- name: ACCESS_TEST\n    description", "- description"),
    )
    assert error.rule == "rule #2"
    assert "missing key(s): name" in error.problem


def test_duplicate_name_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", rule_file(GOOD_RULE))
    write(tmp_path, "b.yaml", rule_file(GOOD_RULE))
    with pytest.raises(RuleError) as caught:
        load_rules(tmp_path)
    assert caught.value.file == "b.yaml"
    assert caught.value.rule == "ACCESS_TEST"
    assert "duplicate rule name, first defined in a.yaml" in caught.value.problem


@pytest.mark.parametrize(
    ("patterns", "problem"),
    [
        ("[{LOWR: inzage}]", "bad pattern"),  # spaCy's own schema check
        ("[{LOWER: Inzage}]", "never matches; write it lowercase"),
        ("[{NORM: données}]", "write it lowercase without accents"),
        ("[{LOWER: {IN: [yes, ja]}}]", "put the word in quotes"),
        ('[{LOWER: "mijn dossier"}]', "one token has no spaces"),
        ("[{LOWER: {REGEX: '^(inzage'}}]", "bad LOWER REGEX"),
        ("[]", "non-empty list of token dicts"),
        ("[inzage]", "is not a mapping"),
    ],
)
def test_bad_patterns(tmp_path: Path, patterns: str, problem: str) -> None:
    body = GOOD_RULE.replace(
        'phrases: ["inzage in mijn dossier"]', f"patterns:\n      - {patterns}"
    )
    error = error_for(tmp_path, body)
    assert error.rule == "ACCESS_TEST"
    assert problem in error.problem


def test_regex_escapes_are_not_flagged_as_uppercase(tmp_path: Path) -> None:
    body = GOOD_RULE.replace(
        'phrases: ["inzage in mijn dossier"]', "patterns:\n      - [{LOWER: {REGEX: '^\\S+zage$'}}]"
    )
    write(tmp_path, "test.yaml", rule_file(body))
    assert Classifier.load(tmp_path).classify("", "inzage", language="nl").rights == ("access",)


def test_thresholds_defaults_when_absent(tmp_path: Path) -> None:
    thresholds = load_thresholds(tmp_path)
    assert thresholds.of("access") == 3.0


def test_thresholds_per_right(tmp_path: Path) -> None:
    write(tmp_path, "thresholds.yaml", "default: 2.5\nthresholds:\n  complaint: 5\n")
    thresholds = load_thresholds(tmp_path)
    assert thresholds.of("complaint") == 5.0
    assert thresholds.of("erasure") == 2.5


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("thresholds:\n  acces: 3\n", "acces", "unknown right"),
        ("thresholds:\n  access: 0\n", "access", "greater than 0"),
        ("default: -1\n", "default", "greater than 0"),
        ("review_margin: -1\n", "review_margin", "must not be negative"),
        ("defualt: 3\n", None, "unknown key(s): defualt"),
    ],
)
def test_threshold_validation(tmp_path: Path, text: str, key: str | None, problem: str) -> None:
    write(tmp_path, "thresholds.yaml", text)
    with pytest.raises(RuleError) as caught:
        load_thresholds(tmp_path)
    assert caught.value.file == "thresholds.yaml"
    assert caught.value.rule == key
    assert problem in caught.value.problem


def test_bundled_rules_load_and_cover_all_labels() -> None:
    from intake.classify import LANGUAGES, RIGHTS, SIGNALS

    rules = load_rules(Path(__file__).resolve().parents[1] / "rules")
    covered = {(lang, r.right) for r in rules if r.score > 0 for lang in r.languages}
    labels = RIGHTS + SIGNALS
    assert [
        (lang, label) for lang in LANGUAGES for label in labels if (lang, label) not in covered
    ] == []


def test_french_lemma_pattern_loads_and_matches(tmp_path: Path) -> None:
    # The French lookup table maps a word to a list of lemmas ("effaçons" -> ["effacer"]);
    # building the reduced table once crashed on it.
    body = GOOD_RULE.replace("languages: [nl]", "languages: [fr]").replace(
        'phrases: ["inzage in mijn dossier"]',
        "patterns:\n      - [{LEMMA: effacer}, {LOWER: mes}]",
    )
    write(tmp_path, "test.yaml", rule_file(body))
    classifier = Classifier.load(tmp_path)
    assert classifier.classify("", "Effacez mes données.", language="fr").rights == ("access",)
    assert classifier.classify("", "Gardez mes données.", language="fr").rights == ()


def test_yaml_anchors_share_patterns_between_rules(tmp_path: Path) -> None:
    text = """rules:
  - name: ACCESS_A
    description: First use defines the anchor.
    right: access
    score: 4.0
    languages: [nl]
    patterns: &SHARED
      - [{NORM: inzage}, {NORM: graag}]
  - name: ERASURE_B
    description: The alias reuses the same patterns for another right.
    right: erasure
    score: -1.0
    languages: [nl]
    patterns: *SHARED
"""
    write(tmp_path, "test.yaml", text)
    result = Classifier.load(tmp_path).classify("", "Inzage graag.", language="nl")
    assert result.scores["access"] == 4.0
    assert result.scores["erasure"] == -1.0


WITH_OTHER = """
  - name: ERASURE_WIS_NL
    description: test
    right: erasure
    score: 4.0
    languages: [nl]
    phrases: [wis alles]
  - name: COMPLAINT_KLACHT_NL
    description: test
    right: complaint
    score: 4.0
    languages: [nl]
    phrases: [klacht]
  - name: COMPLAINT_IN_PASSING_NL
    description: test
    right: complaint
    score: -4.0
    with_other_right: true
    languages: [nl]
    phrases: [anders een klacht]
"""


def test_with_other_right_counts_only_beside_another_right(tmp_path: Path) -> None:
    write(tmp_path, "t.yaml", "rules:" + WITH_OTHER)
    classifier = Classifier.load(tmp_path)
    alone = classifier.classify("", "Antwoord snel, anders een klacht.", "nl")
    assert alone.rights == ("complaint",)
    assert any("(not counted: no other right exercised)" in line for line in alone.explanation)
    beside = classifier.classify("", "Wis alles, anders een klacht.", "nl")
    assert beside.rights == ("erasure",)
    assert beside.scores["complaint"] == 0.0
    assert any("(counts: erasure exercised)" in line for line in beside.explanation)


NAMED_IN_PASSING = WITH_OTHER + """
  - name: AUTOMATED_NAMED_NL
    description: test
    right: automated_decision
    score: 4.0
    languages: [nl]
    phrases: [automatische beslissing]
  - name: AUTOMATED_NAMED_IN_PASSING_NL
    description: test
    right: automated_decision
    score: -4.0
    with_other_right: true
    languages: [nl]
    phrases: [automatische beslissing]
"""


def test_rights_named_in_passing_do_not_vouch_for_each_other(tmp_path: Path) -> None:
    """Each is "another right" for the other only if it holds after its own in-passing rules."""
    write(tmp_path, "t.yaml", "rules:" + NAMED_IN_PASSING)
    classifier = Classifier.load(tmp_path)
    text = "Een vraag over een automatische beslissing, anders een klacht."
    named = classifier.classify("", text, "nl")
    # complaint 4 - 4 would count only beside a right that stands: automated_decision does not
    # (4 - 4 = 0 once its own in-passing rule applies), so each keeps its points.
    assert named.rights == ("complaint", "automated_decision")
    beside = classifier.classify("", "Wis alles. Een automatische beslissing, anders een klacht.",
                                 "nl")
    assert beside.rights == ("erasure",)


@pytest.mark.parametrize("value,problem", [
    ("yes please", "with_other_right must be true or false"),
])
def test_with_other_right_must_be_a_boolean(tmp_path: Path, value: str, problem: str) -> None:
    error = error_for(tmp_path, GOOD_RULE + f"    with_other_right: {value}\n")
    assert problem in error.problem


def test_with_other_right_is_for_rights_not_signals(tmp_path: Path) -> None:
    body = WITH_OTHER.replace("right: complaint\n    score: -4.0", "right: noise\n    score: -4.0")
    write(tmp_path, "t.yaml", "rules:" + body)
    with pytest.raises(RuleError, match="not of a signal"):
        Classifier.load(tmp_path)
