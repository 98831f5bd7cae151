"""Scoring, explanation lines, topic, confidence, review flag and the model seam."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from intake.classify import Classifier
from intake.classify.scoring import certainty, decide, format_score, model_points
from intake.classify.thresholds import Thresholds

RULES = """rules:
  - name: ACCESS_STRONG
    description: Strong access cue.
    right: access
    score: 4.0
    languages: [nl, en]
    phrases: ["inzage in mijn dossier", "copy of my data"]
  - name: ACCESS_WEAK
    description: Weak access cue.
    right: access
    score: 1.5
    languages: [nl]
    patterns:
      - [{LOWER: inzage}]
  - name: ACCESS_COUNTER
    description: Past inzage.
    right: access
    score: -2.0
    languages: [nl]
    phrases: ["na de inzage"]
  - name: NOISE_INVOICE
    description: Invoice.
    right: noise
    score: 4.0
    languages: [nl]
    patterns:
      - [{LOWER: factuur}]
  - name: QUESTION_ASK
    description: Question.
    right: question
    score: 4.5
    languages: [nl]
    phrases: ["ik heb een vraag"]
  - name: ERASURE_LEMMA
    description: Lemma match (deleted, deleting -> delete).
    right: erasure
    score: 4.0
    languages: [en]
    patterns:
      - [{LEMMA: delete}, {LOWER: my}]
"""


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "test.yaml").write_text(RULES, encoding="utf-8")
    return Classifier.load(directory)


def test_explanation_lines(classifier: Classifier) -> None:
    result = classifier.classify("Vraag", "Graag inzage in mijn dossier.", language="nl")
    assert result.explanation == (
        "ACCESS_STRONG +4.0 access: matched 'inzage in mijn dossier'",
        "ACCESS_WEAK +1.5 access: matched 'inzage'",
        "access 5.50 >= 3.00: yes",
        "topic request, confidence 0.92, no review",
    )
    assert [hit.rule for hit in result.hits] == ["ACCESS_STRONG", "ACCESS_WEAK"]
    assert result.scores["access"] == 5.5
    assert result.scores["erasure"] == 0.0


def test_rule_counts_once_per_message_and_subject_counts(classifier: Classifier) -> None:
    once = classifier.classify("inzage", "", language="nl")
    many = classifier.classify("inzage", "inzage inzage inzage", language="nl")
    assert once.scores["access"] == many.scores["access"] == 1.5
    assert once.hits[0].matched == "inzage"


def test_negative_rule_lowers_score(classifier: Classifier) -> None:
    result = classifier.classify("", "Na de inzage in mijn dossier heb ik nog iets.", language="nl")
    assert result.scores["access"] == 4.0 + 1.5 - 2.0
    assert "ACCESS_COUNTER -2.0 access: matched 'Na de inzage'" in result.explanation


def test_topics(classifier: Classifier) -> None:
    assert classifier.classify("Factuur 12", "In bijlage.", language="nl").topic == "noise"
    question = classifier.classify("", "Ik heb een vraag over cookies.", language="nl")
    assert (question.topic, question.rights, question.needs_review) == ("question", (), False)
    unknown = classifier.classify("", "Goedemorgen.", language="nl")
    assert (unknown.topic, unknown.needs_review) == ("unknown", True)
    assert unknown.confidence <= 0.5


def test_partial_evidence_needs_review(classifier: Classifier) -> None:
    result = classifier.classify("", "Ik heb een vraag over inzage.", language="nl")
    assert result.rights == ()
    assert result.topic == "question"
    assert result.needs_review
    assert "some evidence of a right below its threshold" in result.explanation[-1]


def test_lemma_and_elision_and_accents(classifier: Classifier) -> None:
    assert classifier.classify("", "Deleting my account now", language="en").rights == ("erasure",)
    assert classifier.classify("", "A COPY OF MY DATA", language="en").rights == ("access",)


def test_matched_text_is_truncated(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        RULES.replace(
            'phrases: ["inzage in mijn dossier", "copy of my data"]',
            'patterns:\n      - [{LOWER: begin}, {OP: "*"}, {LOWER: einde}]',
        ),
        encoding="utf-8",
    )
    text = "begin " + "woord " * 30 + "einde"
    hit = Classifier.load(tmp_path).classify("", text, language="nl").hits[0]
    assert len(hit.matched) == 60
    assert hit.matched.endswith("…")


def test_decide_canonical_order_and_confidence() -> None:
    thresholds = Thresholds()
    decision = decide({"erasure": 6.0, "access": 4.0}, thresholds)
    assert decision.rights == ("access", "erasure")
    assert decision.confidence == round(certainty(4.0, 3.0), 3)
    assert not decision.needs_review
    near = decide({"access": 3.5}, thresholds)
    assert near.needs_review and near.rights == ("access",)
    assert near.rights_in_doubt


def test_review_about_the_rights_or_only_the_topic() -> None:
    """A follow-up is reviewed only for its rights (intake.triage): decide says which."""
    thresholds = Thresholds()
    unknown = decide({}, thresholds)
    assert unknown.needs_review and not unknown.rights_in_doubt  # topic unknown only
    question = decide({"question": 2.5}, thresholds)  # near the question threshold (3.0)
    assert question.needs_review and not question.rights_in_doubt
    partial = decide({"erasure": 1.0}, thresholds)  # some evidence of a right
    assert partial.needs_review and partial.rights_in_doubt
    disagree = decide({"erasure": 6.0}, thresholds, disagree=("erasure",))
    assert disagree.needs_review and disagree.rights_in_doubt


def test_certainty_and_format() -> None:
    assert certainty(3.0, 3.0) == 0.5
    assert certainty(0.0, 3.0) == 1.0
    assert certainty(4.5, 3.0) == 0.75
    assert (format_score(3), format_score(-1.5), format_score(2.25)) == ("+3.0", "-1.5", "+2.25")
    assert (model_points(1.0, 3.0), model_points(0.5, 3.0), model_points(0.0, 3.0)) == (
        3.0,
        0.0,
        -3.0,
    )


class FixedModel:
    """Stands in for the trained model of a later issue (none exists yet)."""

    def __init__(self, probabilities: Mapping[str, float]) -> None:
        self.calls: list[str] = []
        self._probabilities = probabilities

    def probabilities(self, subject: str, text: str, language: str) -> Mapping[str, float]:
        self.calls.append(language)
        return self._probabilities


def test_model_seam_adds_points(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES, encoding="utf-8")
    model = FixedModel({"access": 0.1, "portability": 0.9})
    result = Classifier.load(tmp_path, model=model).classify(
        "", "Graag inzage in mijn dossier.", language="nl"
    )
    assert model.calls == ["nl"]
    assert result.scores["access"] == pytest.approx(5.5 - 2.4)
    assert result.scores["portability"] == pytest.approx(2.4)
    assert "model access 0.10 -2.4" in result.explanation
    assert result.rights == ("access",)
