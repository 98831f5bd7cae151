"""The whole triage (rules + model) on the everyday-mail set of issue 12 (tests/everyday/).

Writers who never saw the rules, the corpus or each other wrote the mail (tests/everyday/build.py
lists who wrote what): forty-two writers are the train split (in the model corpus; the rules of
rules/everyday.yaml and mentioning.yaml were written from w1+w2), w3 is the dev split (selection
only), w4, w21, w29, w39, w43, w47, w52 and w54 the test splits, touched once per round. Each
floor sits just below the figure reached (docs/classification.md), so a later change cannot
quietly undo it.
The issue's acceptance bars are higher than these floors where they are not reached yet; the report
says which. test4 (w39) was evaluated once, at the end of session 6, where it met the issue's
rights and kind bars: those bars are held here (never tune to it: a change that needs test4 to pass
is a change that overfits). test5 (w43) was evaluated once, at the end of session 7: micro 0.903,
below the issue's 0.92; its floors hold what it reached. test6 (w47, written in session 8) was
evaluated once, at the end of session 9, where it met the issue's rights and kind bars; its floors
hold what it reached. test7 (w52, written in session 9) was evaluated once, at the end of session
10, where it met the issue's rights and kind bars; its floors hold what it reached. test8 (w54,
written in session 10) was evaluated once, at the end of session 11: micro 0.905, below the
issue's 0.92; its floors hold what it reached. test9 (w55, written in session 11) is kept aside
for the next round and not evaluated here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classify.evaluate import evaluate, format_report, load_samples
from intake.cli.rules import predict

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "everyday" / "dev"
TEST4 = ROOT / "tests" / "everyday" / "test4"
TEST5 = ROOT / "tests" / "everyday" / "test5"
TEST6 = ROOT / "tests" / "everyday" / "test6"
TEST7 = ROOT / "tests" / "everyday" / "test7"
TEST8 = ROOT / "tests" / "everyday" / "test8"

# Reached in session 9 (docs/classification.md): micro 0.877, macro 0.906, kind 0.925 (0.944 as
# inspect states it), 0 of 112 requests without a case, review flag catches 93% of the wrong
# answers (40 of 43) on 55.6% flagged; without the flag on a calibrated confidence below one
# half (scoring.REVIEW_BELOW_CONFIDENCE) session 8's new training mail left it at 88%. Session 10
# (the learned review flag, review.py; the same rights): catches 91% (39 of 43) on 55.0%.
# (Session 7: 0.879, 0.909, 0.925, flag 91% on 53%; session 6: 0.87, 0.90, 0.925, flag 91% on
# 57%; session 5: micro 0.85, macro 0.88, kind 0.91; session 4: micro 0.85, macro 0.90, kind
# 0.87, flag 93% on 66%; before the linear model: micro 0.74, macro 0.74, kind 0.86, flag 89%
# on 66%.)
DEV_MICRO_FLOOR = 0.85
DEV_MACRO_FLOOR = 0.88
DEV_KIND_FLOOR = 0.91
DEV_STATED_KIND_FLOOR = 0.92
DEV_REQUESTS_WITHOUT_CASE_CEILING = 0
DEV_REVIEW_CATCH_FLOOR = 0.90
DEV_REVIEW_FLAG_CEILING = 0.56
# test4 at the end of session 6: micro 0.935, macro 0.951, kind as inspect states it 0.972,
# 0 of 126 requests without a case: the bars (0.92, 0.92, 0.95, every request a case).
TEST4_MICRO_FLOOR = 0.92
TEST4_MACRO_FLOOR = 0.92
TEST4_STATED_KIND_FLOOR = 0.95
# test5 at the end of session 7: micro 0.903 (P 0.89 R 0.91), macro 0.934, kind as inspect
# states it 0.956, 0 of 126 requests without a case.
TEST5_MICRO_FLOOR = 0.89
TEST5_MACRO_FLOOR = 0.92
TEST5_STATED_KIND_FLOOR = 0.95
# test6 at the end of session 9: micro 0.949 (P 0.93 R 0.97), macro 0.960, kind as inspect
# states it 0.983, 0 of 126 requests without a case, review flag on 42% catching 27 of 27.
TEST6_MICRO_FLOOR = 0.94
TEST6_MACRO_FLOOR = 0.95
TEST6_STATED_KIND_FLOOR = 0.97
# test7 at the end of session 10: micro 0.931 (P 0.90 R 0.96), macro 0.943, kind as inspect
# states it 0.983, 0 of 126 requests without a case, review flag on 39% catching 31 of 36.
TEST7_MICRO_FLOOR = 0.92
TEST7_MACRO_FLOOR = 0.93
TEST7_STATED_KIND_FLOOR = 0.97
# test8 at the end of session 11: micro 0.905 (P 0.87 R 0.94), macro 0.919, kind as inspect
# states it 0.950, 0 of 126 requests without a case, review flag on 52% catching 43 of 46.
TEST8_MICRO_FLOOR = 0.89
TEST8_MACRO_FLOOR = 0.91
TEST8_STATED_KIND_FLOOR = 0.94


def _report(pipeline, directory: Path):
    report = evaluate(load_samples(directory), lambda s: predict(pipeline, s))
    print(format_report(report))
    return report


@pytest.fixture(scope="module")
def dev_report(trained_pipeline):
    return _report(trained_pipeline, DEV)


def test_everyday_dev_rights(dev_report) -> None:
    text = format_report(dev_report)
    assert dev_report.samples == 160
    assert dev_report.micro.f1 >= DEV_MICRO_FLOOR, text
    assert dev_report.macro_f1 >= DEV_MACRO_FLOOR, text


def test_everyday_dev_kind_and_cases(dev_report) -> None:
    data = dev_report.to_json()
    assert data["kind_accuracy"] >= DEV_KIND_FLOOR, data["kind_confusion"]
    assert data["stated_kind_accuracy"] >= DEV_STATED_KIND_FLOOR, data["kind_confusion"]
    assert len(data["requests_without_case"]) <= DEV_REQUESTS_WITHOUT_CASE_CEILING, (
        data["requests_without_case"])


def test_everyday_dev_review_flag(dev_report) -> None:
    data = dev_report.to_json()
    assert data["review_catch_rate"] >= DEV_REVIEW_CATCH_FLOOR, data
    assert data["review_flag_rate"] <= DEV_REVIEW_FLAG_CEILING, data


# (split, micro, macro, kind as inspect states it): test4 holds the bars, test5 to
# test8 what they reached; each is 180 messages, and every request in them must get a case.
HELD_OUT_FLOORS = [
    (TEST4, TEST4_MICRO_FLOOR, TEST4_MACRO_FLOOR, TEST4_STATED_KIND_FLOOR),
    (TEST5, TEST5_MICRO_FLOOR, TEST5_MACRO_FLOOR, TEST5_STATED_KIND_FLOOR),
    (TEST6, TEST6_MICRO_FLOOR, TEST6_MACRO_FLOOR, TEST6_STATED_KIND_FLOOR),
    (TEST7, TEST7_MICRO_FLOOR, TEST7_MACRO_FLOOR, TEST7_STATED_KIND_FLOOR),
    (TEST8, TEST8_MICRO_FLOOR, TEST8_MACRO_FLOOR, TEST8_STATED_KIND_FLOOR),
]


@pytest.mark.parametrize("directory,micro,macro,stated_kind", HELD_OUT_FLOORS,
                         ids=[d.name for d, *_ in HELD_OUT_FLOORS])
def test_everyday_held_out_split_holds_its_floors(trained_pipeline, directory: Path,
                                                   micro: float, macro: float,
                                                   stated_kind: float) -> None:
    report = _report(trained_pipeline, directory)
    data = report.to_json()
    assert report.samples == 180
    assert report.micro.f1 >= micro, format_report(report)
    assert report.macro_f1 >= macro, format_report(report)
    assert data["stated_kind_accuracy"] >= stated_kind, data["kind_confusion"]
    assert data["requests_without_case"] == [], data["requests_without_case"]


def test_everyday_train_split_is_in_the_model_corpus_and_dev_test_are_not() -> None:
    corpus = (ROOT / "models" / "corpus" / "everyday-train.jsonl").read_text(encoding="utf-8")
    sources = {line.split('"source": "', 1)[1].split('"', 1)[0]
               for line in corpus.splitlines() if line}
    from tests.everyday.build import SPLITS

    assert sources == {f"everyday-{w}" for w, split in SPLITS.items() if split == "train"}
    held_out = {f"everyday-{w}" for w, split in SPLITS.items() if split != "train"}
    assert {"everyday-w3", "everyday-w4", "everyday-w21", "everyday-w29",
            "everyday-w39", "everyday-w43", "everyday-w47", "everyday-w52"} <= held_out
    assert not held_out & sources
