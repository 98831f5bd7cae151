"""From summed scores to a decision: rights, topic, confidence, review flag, explanation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from intake.classify.labels import LABELS, RIGHTS
from intake.classify.review import ReviewModel, review_features
from intake.classify.thresholds import Thresholds

# An "unknown" topic means no rule decided what the message is: never more than this sure.
UNKNOWN_CONFIDENCE_CAP = 0.5
# Below this calibrated probability that every right decision is right, a wrong answer is more
# likely than a right one: the message is flagged even where no single score is near its
# threshold (several rights each a little unsure).
REVIEW_BELOW_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Decision:
    """What the scores say, with one explanation line per right or signal that had a score."""

    rights: tuple[str, ...]
    topic: str
    confidence: float
    needs_review: bool
    lines: tuple[str, ...]
    review_reasons: tuple[str, ...] = ()  # why needs_review, short English phrases
    set_aside: tuple[str, ...] = ()  # rights whose score reached the threshold, set aside for
    # a question (question_over_rights)
    rights_in_doubt: bool = False  # a review reason about the rights, not only the topic
    features: tuple[float, ...] = ()  # the signals the learned review flag reads (review.py)
    p_wrong: float | None = None  # its estimate that this decision is wrong, with a review model


def format_score(score: float) -> str:
    """A signed score with one or two decimals: +3.0, -1.5, +2.25."""
    text = f"{score:+.2f}"
    return text[:-1] if text.endswith("0") else text


def model_points(probability: float, weight: float, against: float | None = None) -> float:
    """Score points for a model probability: +weight at 1.0, 0 at 0.5, -against at 0.0.

    `against` (default: weight) scales the points below 0.5: a model that misses more than it
    invents should add its "yes" fully but subtract its "no" only a little.
    """
    clipped = min(1.0, max(0.0, probability))
    scale = weight if clipped >= 0.5 or against is None else against
    return scale * (2.0 * clipped - 1.0)


def add_model(
    scores: Mapping[str, float],
    probabilities: Mapping[str, float],
    weight: float,
    against: float | None = None,
    weights_of: Callable[[str], tuple[float, float]] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Rule scores plus model points per label, and one explanation line per model label.

    `weights_of(label)` gives (weight, against) for labels weighted apart (Thresholds.model_weights:
    the "question" signal); without it every label takes `weight` and `against`.
    """
    combined = dict(scores)
    lines = []
    for label in LABELS:
        if label in probabilities:
            label_weight, label_against = weights_of(label) if weights_of else (weight, against)
            points = model_points(probabilities[label], label_weight, label_against)
            combined[label] = combined.get(label, 0.0) + points
            lines.append(f"model {label} {probabilities[label]:.2f} {format_score(points)}")
    return combined, lines


def disagreements(
    rule_scores: Mapping[str, float], probabilities: Mapping[str, float], thresholds: Thresholds
) -> tuple[str, ...]:
    """The rights on which the rules alone and the model alone reach opposite verdicts.

    Rules say yes when their score reaches the threshold; the model says yes at p >= 0.5.
    """
    return tuple(
        right
        for right in RIGHTS
        if right in probabilities
        and (rule_scores.get(right, 0.0) >= thresholds.of(right)) != (probabilities[right] >= 0.5)
    )


def calibrated_confidence(
    scores: Mapping[str, float], thresholds: Thresholds, calibration: Callable[[float], float]
) -> float:
    """The probability that all nine yes/no decisions are right.

    `calibration` maps a right's margin (score - threshold) to P(the right is exercised); it is
    fitted on the dev split of the training corpus (see intake/classify/modelbuild.py). The
    decisions are taken as independent, so their probabilities of being right multiply.
    """
    product = 1.0
    for right in RIGHTS:
        margin = float(scores.get(right, 0.0)) - thresholds.of(right)
        p_yes = calibration(margin)
        product *= p_yes if margin >= 0 else 1.0 - p_yes
    return product if math.isfinite(product) else 0.0


def question_over_rights(probabilities: Mapping[str, float], thresholds: Thresholds
                         ) -> float | None:
    """The model's question probability when it reaches `question_over_rights` and exceeds every
    right's probability, else None (see decide). Out of fold the question column at that height
    is nearly always right, while the rights the rules or the model found there are mostly
    questions asked about a right ("how do I complain to the APD?")."""
    question = probabilities.get("question")
    limit = thresholds.question_over_rights
    if question is None or limit is None or question < limit:
        return None
    if any(question <= probabilities.get(right, 0.0) for right in RIGHTS):
        return None
    return question


def certainty(score: float, threshold: float) -> float:
    """0.5 at the threshold, rising linearly to 1.0 one threshold-width away from it."""
    return 0.5 + 0.5 * min(1.0, abs(score - threshold) / threshold)


def decide(
    scores: Mapping[str, float],
    thresholds: Thresholds,
    disagree: Sequence[str] = (),
    calibration: Callable[[float], float] | None = None,
    question_over: float | None = None,
    probabilities: Mapping[str, float] | None = None,
    review: ReviewModel | None = None,
) -> Decision:
    """Decide rights and topic from summed scores.

    - rights: the rights whose score reaches their threshold, in canonical order.
    - topic: "request" if any right; else "noise", then "question", if its score reaches its
      threshold; else "unknown".
    - confidence: the least certain of the decisions taken, where the certainty of one
      yes/no decision is 0.5 at the threshold and 1.0 a full threshold away from it. The nine
      rights always count; the deciding signal counts for "noise"/"question"; "unknown" is
      capped at 0.5. With a `calibration` (a trained model's), confidence is instead the
      calibrated probability that all nine right decisions are right (calibrated_confidence).
    - needs_review: topic "unknown", rights set aside for a question, and, with a learned
      `review` model (review.py, fitted by `intake model train`), its estimate that the answer
      is wrong reaching its threshold. Without one, the hand-made reasons: a right or signal
      within review_margin of its threshold, no right exercised although some right has
      positive evidence, rules and model disagreeing on a right (`disagree`, see
      disagreements), or a calibrated confidence below REVIEW_BELOW_CONFIDENCE.
    - question_over: the model's question probability when it reaches
      `thresholds.question_over_rights` and exceeds every right's (see question_over_rights):
      the rights that reached their threshold are set aside, the topic is "question" and the
      message is flagged for review with the rights named.
    """
    score = {label: float(scores.get(label, 0.0)) for label in LABELS}
    rights = tuple(r for r in RIGHTS if score[r] >= thresholds.of(r))
    set_aside: tuple[str, ...] = ()
    if rights and question_over is not None:
        set_aside, rights = rights, ()
    if set_aside:
        topic = "question"
    elif rights:
        topic = "request"
    elif score["noise"] >= thresholds.of("noise"):
        topic = "noise"
    elif score["question"] >= thresholds.of("question"):
        topic = "question"
    else:
        topic = "unknown"

    counted = list(RIGHTS)
    if topic in ("noise", "question"):
        counted.append(topic)
    elif topic == "unknown":
        counted.extend(("noise", "question"))
    if calibration is not None:
        # A probability about the rights; an unknown topic still asks for review (below).
        confidence = calibrated_confidence(score, thresholds, calibration)
    else:
        confidence = min(certainty(score[label], thresholds.of(label)) for label in counted)
        if topic == "unknown":
            confidence = min(confidence, UNKNOWN_CONFIDENCE_CAP)
    if set_aside:  # the scores say yes, the decision says no: no confidence either way
        confidence = min(confidence, UNKNOWN_CONFIDENCE_CAP)

    margin = thresholds.review_margin
    near = [label for label in LABELS if abs(score[label] - thresholds.of(label)) < margin]
    partial = not rights and any(score[r] > 0 for r in RIGHTS)
    unsure = calibration is not None and confidence < REVIEW_BELOW_CONFIDENCE
    features = review_features(score, thresholds, probabilities or {}, confidence, topic, rights,
                               near, partial, disagree, set_aside)
    p_wrong: float | None = None
    likely_wrong: str | None = None  # the learned flag's reason, when it flags
    if review is not None:
        p_wrong = review.p_wrong(features)
        if p_wrong >= review.threshold:
            likely_wrong = f"likely wrong: P {p_wrong:.2f} >= {review.threshold:.2f}"
        rights_in_doubt = likely_wrong is not None or bool(set_aside)
        needs_review = topic == "unknown" or rights_in_doubt
    else:
        rights_in_doubt = (any(label in RIGHTS for label in near) or partial or bool(disagree)
                           or bool(set_aside) or unsure)
        needs_review = bool(near) or topic == "unknown" or rights_in_doubt

    lines = []
    for label in LABELS:
        if score[label] == 0:
            continue
        threshold = thresholds.of(label)
        reached = score[label] >= threshold
        verdict = "yes" if reached else "no"
        relation = ">=" if reached else "<"
        lines.append(f"{label} {score[label]:.2f} {relation} {threshold:.2f}: {verdict}")
    reasons = []
    if likely_wrong:
        reasons.append(likely_wrong)
    if near:
        reasons.append(f"near threshold: {', '.join(near)}")
    if partial:
        reasons.append("some evidence of a right below its threshold")
    if disagree:
        reasons.append(f"rules and model disagree: {', '.join(disagree)}")
    if unsure:
        reasons.append(f"low confidence: {confidence:.2f} < {REVIEW_BELOW_CONFIDENCE:.2f}")
    if set_aside:
        reasons.append(f"read as a question, rights set aside: {', '.join(set_aside)}")
    if topic == "unknown":
        reasons.append("topic unknown")
    if set_aside:
        lines.append(f"question {question_over:.2f} above every right: "
                     f"{', '.join(set_aside)} set aside (question_over_rights)")
    if review is not None and likely_wrong is None:
        # The hand-made signals still show, to explain; the review model weighed them.
        reasons = [reason for reason in reasons if reason.startswith(("read as", "topic"))]
    verdict = f"review ({'; '.join(reasons)})" if needs_review else "no review"
    if p_wrong is not None:
        verdict += f", P(wrong) {p_wrong:.2f}"
    lines.append(f"topic {topic}, confidence {confidence:.2f}, {verdict}")
    return Decision(rights, topic, round(confidence, 3), needs_review, tuple(lines),
                    tuple(reasons) if needs_review else (), set_aside, rights_in_doubt,
                    features, None if p_wrong is None else round(p_wrong, 4))
