"""The learned review flag: its signals, its decision, its threshold and its cross-fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from intake.classify.corpus import CorpusExample
from intake.classify.labels import RIGHTS
from intake.classify.review import FEATURES, ReviewModel, review_features
from intake.classify.reviewfit import OutOfFold, fit_review_model, folds_of, threshold_for
from intake.classify.scoring import decide
from intake.classify.thresholds import Thresholds
from intake.classify.trained import TrainedModel


def one_signal_model(name: str, weight: float, intercept: float, threshold: float
                     ) -> ReviewModel:
    """A review model that reads one signal only (unit means and scales: raw values)."""
    weights = tuple(weight if feature == name else 0.0 for feature in FEATURES)
    zeros, ones = (0.0,) * len(FEATURES), (1.0,) * len(FEATURES)
    return ReviewModel(weights, intercept, zeros, ones, threshold)


BASE = dict.fromkeys(RIGHTS, -20.0) | {"question": 0.0, "noise": 0.0}
NEAR = one_signal_model("near_rights", 6.0, -4.0, 0.5)  # a right near its threshold: P 0.88


def test_signals_are_read_in_the_order_of_the_feature_names() -> None:
    thresholds = Thresholds()
    score = BASE | {"access": 3.5, "erasure": 2.5}
    values = dict(zip(FEATURES, review_features(
        score, thresholds, {"access": 0.9, "erasure": 0.4, "question": 0.1}, 0.3, "request",
        ("access",), ("access", "erasure"), False, ("erasure",), ()), strict=True))
    assert values["rights"] == 1 and values["topic_request"] == 1 and values["topic_unknown"] == 0
    assert values["weakest_yes"] == pytest.approx(0.5)
    assert values["strongest_no"] == pytest.approx(-0.5)
    assert values["near_rights"] == 2 and values["disagree"] == 1
    assert values["model_doubt_max"] == pytest.approx(0.4)  # erasure's min(p, 1 - p)
    assert values["model_top"] == pytest.approx(0.9) and values["question_p"] == 0.1
    assert values["noise_margin"] == -thresholds.of("noise")


def test_the_review_model_decides_the_flag_and_says_so() -> None:
    thresholds = Thresholds()
    near = decide(BASE | {"access": 3.5}, thresholds, review=NEAR)
    assert near.rights == ("access",) and near.needs_review and near.rights_in_doubt
    assert near.p_wrong == pytest.approx(0.8808, abs=1e-3)
    assert near.review_reasons[0] == "likely wrong: P 0.88 >= 0.50"
    assert "near threshold: access" in near.review_reasons  # the signals behind it still show
    assert near.lines[-1].endswith("P(wrong) 0.88")


def test_hand_made_reasons_alone_no_longer_flag_where_the_review_model_is_sure() -> None:
    thresholds = Thresholds()
    # No right, some evidence below a threshold, rules and model disagreeing: each a hand-made
    # reason; this review model reads none of them.
    score = BASE | {"erasure": 1.0, "noise": 3.5}
    without = decide(score, thresholds, disagree=("erasure",))
    assert without.needs_review and without.p_wrong is None
    learned = decide(score, thresholds, disagree=("erasure",), review=NEAR)
    assert learned.topic == "noise" and not learned.needs_review and not learned.rights_in_doubt
    assert learned.review_reasons == () and learned.p_wrong == pytest.approx(0.018, abs=1e-3)


def test_an_unknown_topic_and_rights_set_aside_are_flagged_whatever_the_review_model_says() -> None:
    thresholds = Thresholds()
    never = one_signal_model("rights", 0.0, -10.0, 0.5)
    unknown = decide(BASE, thresholds, review=never)
    assert unknown.topic == "unknown" and unknown.needs_review
    assert unknown.review_reasons == ("topic unknown",)
    aside = decide(BASE | {"access": 5.0}, thresholds, question_over=0.9, review=never)
    assert aside.topic == "question" and aside.needs_review and aside.rights_in_doubt
    assert aside.review_reasons == ("read as a question, rights set aside: access",)


def test_review_model_round_trips_through_json_and_an_older_one_is_ignored() -> None:
    model = one_signal_model("disagree", 1.5, -2.0, 0.25)
    again = ReviewModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again == model
    older = model.to_json() | {"features": list(FEATURES[:-1])}
    assert ReviewModel.from_json(older) is None  # other signals: the hand-made reasons apply
    broken = model.to_json() | {"weights": [1.0]}
    with pytest.raises(ValueError):
        ReviewModel.from_json(broken)


def test_the_threshold_is_the_highest_that_catches_the_target() -> None:
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.1])
    wrong = np.array([True, False, True, False, True])
    none = np.zeros(5, dtype=bool)
    assert threshold_for(p, wrong, none, 2 / 3) == pytest.approx(0.3)
    assert threshold_for(p, wrong, none, 1.0) == pytest.approx(0.1)
    # The wrong answer at 0.1 is flagged anyway (topic unknown): 0.3 already catches all three.
    anyway = np.array([False, False, False, False, True])
    assert threshold_for(p, wrong, anyway, 1.0) == pytest.approx(0.3)
    assert threshold_for(p, wrong, np.array([True, False, True, False, True]), 1.0) == 1.0


def test_folds_hold_whole_families_and_balance_their_sizes() -> None:
    def example(source: str) -> CorpusExample:
        return CorpusExample("tekst", "nl", (), source)

    examples = ([example("everyday-w1")] * 6 + [example("everyday-w2")] * 4
                + [example("nl-formal-01")] * 3 + [example("fr-formal-01")] * 3
                + [example("everyday-w3")] * 2)
    folds = folds_of(examples, {}, 3)
    by_source: dict[str, set[int]] = {}
    for e, fold in zip(examples, folds, strict=True):
        by_source.setdefault(e.source, set()).add(fold)
    assert all(len(f) == 1 for f in by_source.values())  # a source never spans two folds
    assert by_source["nl-formal-01"] == by_source["fr-formal-01"]  # translations: one family
    assert sorted(folds.count(i) for i in range(3)) == [6, 6, 6]


def test_fit_learns_which_signal_means_wrong() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(400):
        values = rng.normal(size=len(FEATURES))
        wrong = bool(values[FEATURES.index("disagree")] > 0.8)
        rows.append(OutOfFold(tuple(values), wrong, False, True))
    model, report = fit_review_model(rows, catch_target=0.9)
    weights = dict(zip(FEATURES, model.weights, strict=True))
    assert max(weights, key=lambda name: abs(weights[name])) == "disagree"
    assert weights["disagree"] > 0
    assert report["out_of_fold"]["everyday"]["catch"] >= 0.9
    assert report["out_of_fold"]["everyday"]["flagged_share"] < 0.5
    with pytest.raises(ValueError):
        fit_review_model([OutOfFold(tuple(rng.normal(size=len(FEATURES))), False, False, True)
                          for _ in range(20)])


def test_the_bundled_build_carries_a_review_model_that_the_classifier_uses() -> None:
    build = Path(__file__).resolve().parents[1] / "models" / "build"
    if not (build / "meta.json").is_file():
        pytest.skip("no model in models/build: run `make model`")
    meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    model = TrainedModel.load(build)
    assert model.review is not None
    assert model.review.threshold == pytest.approx(meta["review"]["threshold"], abs=1e-4)
    everyday = meta["review"]["out_of_fold"]["everyday"]
    assert everyday["catch"] >= meta["review"]["catch_target"] - 1e-9


@pytest.mark.parametrize("folds", ["1", "-2"])
def test_model_train_refuses_a_cross_fit_it_cannot_do(folds: str, tmp_path: Path, capsys) -> None:
    from intake.cli import main

    code = main(["model", "train", "--quiet", "--review-folds", folds,
                 "--out", str(tmp_path / "build")])
    assert code == 2
    assert "--review-folds must be 0 (none) or at least 2" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()  # nothing was trained
