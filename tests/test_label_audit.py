"""bench/label_audit.py: the audit's instructions and how its answers are scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.benchscripts import load_bench


def _bench() -> Any:
    return load_bench("label_audit")


def test_instructions_quote_the_writers_label_definitions() -> None:
    labels = _bench().label_definitions()
    assert labels.startswith("## The labels")
    assert "automated_decision" in labels and "## Format" not in labels


def test_score_counts_who_the_auditor_sides_with(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    key = [
        # the classifier missed access; the auditor reads it too: the writer's side
        {"n": 1, "mark": "wrong", "source": "everyday-w1", "language": "nl",
         "writer": ["access", "objection"], "classifier": ["objection"]},
        # the classifier added erasure; the auditor agrees: the classifier's side
        {"n": 2, "mark": "wrong", "source": "everyday-w2", "language": "en",
         "writer": ["withdraw_consent"], "classifier": ["erasure", "withdraw_consent"]},
        # the auditor reads something else again
        {"n": 3, "mark": "wrong", "source": "everyday-w2", "language": "fr",
         "writer": ["complaint"], "classifier": []},
        {"n": 4, "mark": "control", "source": "everyday-w5", "language": "de",
         "writer": ["access"], "classifier": ["access"]},
    ]
    (tmp_path / "key.json").write_text(json.dumps(key), encoding="utf-8")
    answers = [
        {"n": 1, "rights": ["objection", "access"], "sure": True, "why": ""},
        {"n": 2, "rights": ["erasure", "withdraw_consent"], "sure": False, "why": ""},
        {"n": 3, "rights": ["objection"], "sure": True, "why": ""},
    ]
    (tmp_path / "answers-part0.jsonl").write_text(
        "\n".join(json.dumps(a) for a in answers) + "\n", encoding="utf-8")

    _bench().score(tmp_path)
    out = capsys.readouterr().out

    assert "no answer for 1 of 4 messages: [4]" in out
    assert ("wrong: 3 answers; the auditor's rights equal the writer's 1, the classifier's 1, "
            "neither 1 (sure: 2, of which writer 1, classifier 0)") in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "missed by the classifier: writer   1 classifier   0" in lines["access"]
    assert "added: writer   0 classifier   1" in lines["erasure"]
    assert "missed by the classifier: writer   0 classifier   1" in lines["complaint"]


def test_score_without_a_sample_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _bench().main(["score", str(tmp_path)])
    assert exit_info.value.code == 2
