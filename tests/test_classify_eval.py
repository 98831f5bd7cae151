"""Evaluation of the whole classifier (rules + model) on sets it was never tuned on.

- tests/eval/: the project's own held-out set (see its README).
- ../shared/corpus/public-templates/: real third-party request letters, evaluation only.
  The issue's acceptance bar there is micro-F1 >= 0.85, and the test holds it; what the system
  reaches is measured in docs/classification.md (0.87 on 2026-12-01, rules and model tuned on
  the project's own corpus only; complaint is still over-predicted in some letters).
The report is printed (pytest -s, or in the failure message) so a drop can be read per right.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intake.classify.evaluate import evaluate, format_report, load_samples
from intake.cli.rules import predict

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "tests" / "eval"
# The project's shared folder sits beside the checkout; INTAKE_SHARED_DIR points elsewhere.
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", ROOT.parent / "shared"))
PUBLIC = SHARED / "corpus" / "public-templates"

# 0.95 reached on 2026-12-06; issue 12: not lower than 0.93
HELD_OUT_FLOOR = 0.93
PUBLIC_FLOOR = 0.85


def test_held_out_set(trained_pipeline) -> None:
    report = evaluate(load_samples(HELD_OUT), lambda s: predict(trained_pipeline, s))
    text = format_report(report)
    print(text)
    assert report.samples == 64
    assert report.micro.f1 >= HELD_OUT_FLOOR, text


def test_public_templates(trained_pipeline) -> None:
    if not (PUBLIC / "labels.jsonl").is_file():
        # Outside the repository on purpose (third-party letters, evaluation only).
        pytest.skip(f"{PUBLIC} is not on this machine: set INTAKE_SHARED_DIR to evaluate on it")
    report = evaluate(load_samples(PUBLIC), lambda s: predict(trained_pipeline, s))
    text = format_report(report)
    print(text)
    assert report.micro.f1 >= PUBLIC_FLOOR, text
