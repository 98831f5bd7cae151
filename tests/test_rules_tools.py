"""`intake rules lint|test|eval` against real rule files and a small labelled directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from intake.classify.evaluate import (
    Counts,
    Prediction,
    Sample,
    evaluate,
    format_report,
    regressions,
)
from intake.classify.lint import lint_rules


def request_email(body: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Testpersoon Voorbeeld <test.voorbeeld@example.be>"
    msg["To"] = "dpo.wse@vlaanderen.be"
    msg["Subject"] = subject
    msg["Message-ID"] = "<rules-tools-1@example.be>"
    msg.set_content(body)
    return bytes(msg)

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"

BROKEN = """\
rules:
  - name: GOOD_RULE_NL
    description: fine
    right: access
    score: 2.0
    languages: [nl]
    phrases: [inzage]
  - name: BAD_RIGHT_NL
    description: unknown right
    right: acces
    score: 2.0
    languages: [nl]
    phrases: [kopie]
  - name: UPPER_NORM_NL
    description: can never match
    right: erasure
    score: 3.0
    languages: [nl]
    patterns:
      - [{NORM: Wissen}]
  - name: BAD_KEY_NL
    description: spaCy refuses the key
    right: erasure
    score: 3.0
    languages: [nl]
    patterns:
      - [{NROM: wissen}]
  - name: EMPTY_IN_NL
    description: empty IN list
    right: erasure
    score: 3.0
    languages: [nl]
    patterns:
      - [{LOWER: {IN: []}}]
"""

DUPLICATE = """\
rules:
  - name: GOOD_RULE_NL
    description: same name as in a.yaml
    right: access
    score: 1.0
    languages: [nl]
    phrases: [dossier, dossier]
"""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_bundled_rules_lint_clean() -> None:
    assert [str(p) for p in lint_rules(RULES_DIR)] == []


def test_lint_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BROKEN)
    (tmp_path / "b.yaml").write_text(DUPLICATE)
    (tmp_path / "c.yaml").write_text("rules:\n  - name: X\n    right: [unclosed\n")
    found = {(p.file, p.line, p.rule, p.severity): p.message for p in lint_rules(tmp_path)}
    assert "unknown right 'acces'" in found[("a.yaml", 8, "BAD_RIGHT_NL", "error")]
    assert "never matches" in found[("a.yaml", 14, "UPPER_NORM_NL", "error")]
    assert "NROM" in found[("a.yaml", 21, "BAD_KEY_NL", "error")]
    assert "empty IN list" in found[("a.yaml", 28, "EMPTY_IN_NL", "error")]
    assert "first defined in a.yaml:2" in found[("b.yaml", 2, "GOOD_RULE_NL", "error")]
    assert any(f == "c.yaml" and "not valid YAML" in m for (f, *_), m in found.items())
    assert "listed twice" in found[("b.yaml", 2, "GOOD_RULE_NL", "warning")]
    assert len(found) == 7


def test_lint_command_exit_status(tmp_path: Path) -> None:
    ok = run_cli("rules", "lint", str(RULES_DIR))
    assert ok.returncode == 0, ok.stderr
    assert "0 error(s)" in ok.stdout
    (tmp_path / "a.yaml").write_text(BROKEN)
    bad = run_cli("rules", "lint", str(tmp_path))
    assert bad.returncode == 1
    assert "a.yaml:8: error: BAD_RIGHT_NL: unknown right 'acces'" in bad.stdout


def test_rules_test_shows_hits_and_decision(tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(request_email(
        body="Geachte, graag kreeg ik inzage in mijn persoonsgegevens en wis daarna alles.",
        subject="Inzageverzoek",
    ))
    out = run_cli("rules", "test", str(eml))
    assert out.returncode == 0, out.stderr
    assert "language: nl" in out.stdout
    assert "access" in out.stdout and "erasure" in out.stdout
    assert "rights: access, erasure" in out.stdout
    assert "[matched '" in out.stdout


def test_evaluate_counts() -> None:
    samples = [
        Sample("a", Path("a"), "nl", frozenset({"access"})),
        Sample("b", Path("b"), "nl", frozenset({"access", "erasure"})),
        Sample("c", Path("c"), "fr", frozenset()),
    ]
    answers = {
        "a": frozenset({"access"}),
        "b": frozenset({"access", "complaint"}),
        "c": frozenset({"erasure"}),
    }
    report = evaluate(samples, lambda s: Prediction(answers[s.name], "nl"))
    assert report.per_right["access"] == Counts(tp=2)
    assert report.per_right["erasure"] == Counts(fp=1, fn=1)
    assert report.per_right["complaint"] == Counts(fp=1)
    assert report.micro == Counts(tp=2, fp=2, fn=1)
    assert report.micro.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert report.macro_f1 == pytest.approx((1.0 + 0.0 + 0.0) / 3)
    assert report.exact == 1 and report.language_correct == 2
    assert report.confusion[("erasure", "complaint")] == 1
    assert report.confusion[("(none)", "erasure")] == 1
    assert report.per_language["fr"] == Counts(fp=1)
    baseline = report.to_json()
    worse = evaluate(samples, lambda s: Prediction(frozenset(), "nl"))
    assert "access" in regressions(worse, baseline)
    assert "micro" in regressions(worse, baseline)


def test_evaluate_tells_flagged_from_unflagged_misses() -> None:
    samples = [
        Sample("right", Path("right"), "nl", frozenset({"access"})),
        Sample("wrong-flagged", Path("wf"), "nl", frozenset({"erasure"})),
        Sample("wrong-unflagged", Path("wu"), "nl", frozenset()),
    ]
    answers = {
        "right": Prediction(frozenset({"access"}), "nl", needs_review=True),
        "wrong-flagged": Prediction(frozenset(), "nl", needs_review=True),
        "wrong-unflagged": Prediction(frozenset({"complaint"}), "nl", needs_review=False),
    }
    report = evaluate(samples, lambda s: answers[s.name])
    data = report.to_json()
    assert (data["review_flagged"], data["review_flagged_wrong"], data["unflagged_wrong"]) == (
        2, 1, 1)
    assert {m["file"]: m["flagged"] for m in data["misses"]} == {
        "wrong-flagged": True, "wrong-unflagged": False}
    text = format_report(report)
    assert "flagged for review: 2 (1 of them wrong); not flagged: 1 (1 of them wrong)" in text
    assert "wrong-unflagged: expected [], got ['complaint']  (not flagged for review)" in text
    assert "wrong-flagged: expected ['erasure'], got []\n" in text + "\n"


def test_eval_command_with_baseline(tmp_path: Path) -> None:
    data = tmp_path / "set"
    data.mkdir()
    letters = {
        "nl-1.txt": ("Ik wil graag inzage in al mijn persoonsgegevens.", ["access"]),
        "nl-2.txt": ("Verwijder al mijn gegevens uit jullie bestanden aub.", ["erasure"]),
        "en-1.txt": ("Please send me a copy of all personal data you hold about me.", ["access"]),
        "en-2.txt": ("Thanks for the meeting yesterday, see you next week.", []),
        "nl-3.eml": (None, ["access"]),
    }
    labels = []
    for name, (text, rights) in letters.items():
        if text is None:
            (data / name).write_bytes(request_email(
                body="Graag een kopie van mijn dossier en alle gegevens die u over mij heeft.",
                subject="Vraag"))
        else:
            (data / name).write_text(text)
        labels.append(json.dumps({"file": name, "lang": name[:2], "rights": [*rights, "other"]}))
    (data / "labels.jsonl").write_text("\n".join(labels) + "\n")
    baseline = tmp_path / "baseline.json"
    out = run_cli("rules", "eval", str(data), "--no-model", "--save-baseline", str(baseline))
    assert out.returncode == 0, out.stderr
    assert "micro" in out.stdout and "exact: 5/5" in out.stdout
    saved = json.loads(baseline.read_text())
    assert saved["micro"]["f1"] == 1.0

    # An admin breaks the erasure rules: the comparison names what broke (rules alone: the
    # trained model would still recognise erasure).
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (rules / "erasure.yaml").unlink()
    out = run_cli("rules", "eval", str(data), "--rules", str(rules), "--no-model",
                  "--baseline", str(baseline), "--fail-under", "0.99")
    assert out.returncode == 1
    assert "newly wrong: nl-2.txt" in out.stdout
    assert "erasure" in out.stdout and "-1.00" in out.stdout


def test_eval_refuses_a_directory_without_labels(tmp_path: Path) -> None:
    out = run_cli("rules", "eval", str(tmp_path))
    assert out.returncode == 2
    assert "labels.jsonl" in out.stderr


def test_evaluate_reports_the_issue_measures() -> None:
    samples = [
        Sample("req-ok", Path("a"), "nl", frozenset({"access"}), "request", ("plain_words",)),
        Sample("req-lost", Path("b"), "nl", frozenset({"erasure"}), "request",
               ("plain_words", "west_flemish")),
        Sample("robot", Path("c"), "en", frozenset(), "robot", ("out_of_office",)),
        Sample("question", Path("d"), "fr", frozenset(), "question", ()),
        Sample("other", Path("e"), "nl", frozenset(), "other", ()),
    ]
    answers = {
        "req-ok": Prediction(frozenset({"access"}), "nl", False, "request", True, 0.9),
        "req-lost": Prediction(frozenset(), "nl", True, "other", False, 0.4),
        "robot": Prediction(frozenset(), "en", False, "robot", False, 0.95),
        "question": Prediction(frozenset({"access"}), "fr", False, "request", True, 0.8),
        # a case to classify: a request by the disposition, "other" as inspect states it
        "other": Prediction(frozenset(), "nl", True, "request", True, 0.5, "other"),
    }
    report = evaluate(samples, lambda s: answers[s.name])
    data = report.to_json()
    assert (data["kind_correct"], data["kind_labelled"]) == (2, 5)
    assert data["stated_kind_accuracy"] == 0.6
    assert data["kind_confusion"] == [
        {"expected": "other", "predicted": "request", "count": 1},
        {"expected": "question", "predicted": "request", "count": 1},
        {"expected": "request", "predicted": "other", "count": 1}]
    assert data["requests"] == 2 and data["requests_without_case"] == ["req-lost"]
    # three wrong answers (req-lost, question, other); req-lost and other were flagged
    assert (data["wrong"], data["wrong_flagged"]) == (3, 2)
    assert data["review_flag_rate"] == 0.4
    assert data["per_phenomenon"]["plain_words"] == {
        "samples": 2, "exact": 1, "micro_f1": pytest.approx(2 / 3, abs=1e-4), "support": 2}
    assert data["per_phenomenon"]["west_flemish"]["exact"] == 0
    assert data["calibration_ece"] is not None
    text = format_report(report)
    assert "kind accuracy: 0.400 (2/5; a case to classify counted as request)" in text
    assert "kind accuracy as inspect states it (a case to classify is other): 0.600" in text
    assert "requests without a case: 1 of 2: req-lost" in text
    assert "review flag: set on 40% of messages; catches 67% of the wrong answers (2/3)" in text
    assert "plain_words" in text


def test_kind_of_maps_dispositions_to_the_five_kinds() -> None:
    from intake.classify.evaluate import kind_of

    assert [kind_of(d) for d in ("open_request", "open_question", "followup", "robot",
                                 "list_only")] == ["request", "question", "followup", "robot",
                                                   "other"]


def test_model_reads_subwords_and_is_never_certain() -> None:
    from intake.classify.trained import PROBABILITY_FLOOR, floored, model_words

    words = model_words("", "Verwijderd aub")
    assert "verwijderd" in words and "verwi~" in words
    assert "aub" in words and not any(w.startswith("aub") and w != "aub" for w in words)
    assert floored(0.0) == PROBABILITY_FLOOR and floored(1.0) == 1 - PROBABILITY_FLOOR
