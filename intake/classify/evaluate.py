"""`intake rules eval`: precision, recall and F1 per right on a labelled set, and the change
against a saved baseline."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake.classify.labels import KINDS, RIGHTS

LABELS_FILE = "labels.jsonl"
# The five kinds of issue 12's labels (labels.KINDS); the triage's disposition maps onto them
# (`kind_of`).
# Dispositions under which a message gets no case at all (listed or recorded only).
NO_CASE_DISPOSITIONS = frozenset({"list_only", "robot"})
_KIND_OF_DISPOSITION = {"open_request": "request", "open_question": "question",
                        "followup": "followup", "robot": "robot", "list_only": "other"}


def kind_of(disposition: str) -> str:
    """The label kind a triage disposition stands for (a new case-bearing one counts as request)."""
    return _KIND_OF_DISPOSITION.get(disposition, "request")


def stated_kind_of(disposition: str) -> str:
    """The label kind as `intake inspect --json` states it: a *to classify* case is "other".

    `kind_of` counts the fail-safe case as a request (it gets the legal clock); inspect's `kind`
    field says "request" only for a recognised right. Both figures are reported.
    """
    return "other" if disposition == "to_classify" else kind_of(disposition)


class EvalSetError(ValueError):
    """The evaluation directory or its labels file is not usable."""


@dataclass(frozen=True)
class Sample:
    """One labelled message: a .eml or .txt file and the rights it exercises."""

    name: str
    path: Path
    language: str
    rights: frozenset[str]
    kind: str = ""  # one of KINDS when labelled
    phenomena: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prediction:
    rights: frozenset[str]
    language: str
    needs_review: bool = False
    kind: str = ""  # one of KINDS when known (an .eml through the whole triage)
    has_case: bool = True  # False when the triage would open or join no case
    confidence: float | None = None  # the classifier's confidence that the rights are right
    stated_kind: str = ""  # the kind as inspect's kind field states it (stated_kind_of)


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass
class PhenomenonCounts:
    """How the messages with one phenomenon tag fared."""

    samples: int = 0
    exact: int = 0  # rights (and kind, where labelled) right
    rights: Counts = field(default_factory=Counts)

    def to_json(self) -> dict[str, Any]:
        return {"samples": self.samples, "exact": self.exact,
                "micro_f1": round(self.rights.f1, 4), "support": self.rights.support}


@dataclass
class EvalReport:
    """Per-right counts, per-language micro figures, confusions and the messages that missed."""

    per_right: dict[str, Counts]
    per_language: dict[str, Counts]
    samples: int
    exact: int
    language_correct: int
    review_flagged: int
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    # the misses that were not flagged for review: what would reach staff looking right
    unflagged_misses: frozenset[str] = frozenset()
    kind_labelled: int = 0
    kind_correct: int = 0
    kind_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    # labelled requests (kind request) the triage would give no case
    requests: int = 0
    requests_without_case: list[str] = field(default_factory=list)
    # wrong answers: rights wrong, or kind wrong where labelled; and those among them flagged
    wrong: int = 0
    wrong_flagged: int = 0
    per_phenomenon: dict[str, PhenomenonCounts] = field(default_factory=dict)
    # (confidence, rights exactly right) per message that had a confidence: for the ECE
    confidences: list[tuple[float, bool]] = field(default_factory=list)
    stated_kind_correct: int = 0  # kinds right as inspect states them (to classify = other)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_right.values():
            total = total + counts
        return total

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the rights that occur in the labels or in the predictions."""
        seen = [c for c in self.per_right.values() if c.tp + c.fp + c.fn]
        return sum(c.f1 for c in seen) / len(seen) if seen else 0.0

    @property
    def kind_accuracy(self) -> float | None:
        return self.kind_correct / self.kind_labelled if self.kind_labelled else None

    @property
    def stated_kind_accuracy(self) -> float | None:
        return self.stated_kind_correct / self.kind_labelled if self.kind_labelled else None

    @property
    def review_catch_rate(self) -> float | None:
        """Share of the wrong answers that were flagged for review."""
        return self.wrong_flagged / self.wrong if self.wrong else None

    @property
    def review_flag_rate(self) -> float:
        return self.review_flagged / self.samples if self.samples else 0.0

    @property
    def calibration_error(self) -> float | None:
        """ECE (10 bins) of the confidence against "the rights are exactly right"."""
        from intake.classify.calibration import expected_calibration_error

        if not self.confidences:
            return None
        return expected_calibration_error([c for c, _ in self.confidences],
                                          [ok for _, ok in self.confidences])

    def to_json(self) -> dict[str, Any]:
        micro = self.micro
        ece = self.calibration_error
        kind_accuracy, catch = self.kind_accuracy, self.review_catch_rate
        return {
            "samples": self.samples,
            "kind_labelled": self.kind_labelled,
            "kind_correct": self.kind_correct,
            "kind_accuracy": None if kind_accuracy is None else round(kind_accuracy, 4),
            "stated_kind_accuracy": (None if self.stated_kind_accuracy is None
                                     else round(self.stated_kind_accuracy, 4)),
            "kind_confusion": [
                {"expected": a, "predicted": b, "count": n}
                for (a, b), n in sorted(self.kind_confusion.items(),
                                        key=lambda kv: (-kv[1], kv[0]))
            ],
            "requests": self.requests,
            "requests_without_case": list(self.requests_without_case),
            "wrong": self.wrong,
            "wrong_flagged": self.wrong_flagged,
            "review_catch_rate": None if catch is None else round(catch, 4),
            "review_flag_rate": round(self.review_flag_rate, 4),
            "calibration_ece": None if ece is None else round(ece, 4),
            "per_phenomenon": {name: c.to_json() for name, c in sorted(
                self.per_phenomenon.items(), key=lambda kv: (-kv[1].samples, kv[0]))},
            "exact": self.exact,
            "language_correct": self.language_correct,
            "review_flagged": self.review_flagged,
            "review_flagged_wrong": len(self.misses) - len(self.unflagged_misses),
            "unflagged_wrong": len(self.unflagged_misses),
            "micro": _figures(micro),
            "macro_f1": round(self.macro_f1, 4),
            "per_right": {r: _figures(c) for r, c in self.per_right.items()},
            "per_language": {lang: _figures(c) for lang, c in sorted(self.per_language.items())},
            "confusion": [
                {"expected": a, "predicted": b, "count": n}
                for (a, b), n in sorted(self.confusion.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "misses": [
                {"file": name, "expected": expected, "predicted": predicted,
                 "flagged": name not in self.unflagged_misses}
                for name, expected, predicted in self.misses
            ],
        }


def _figures(c: Counts) -> dict[str, float | int]:
    return {
        "precision": round(c.precision, 4),
        "recall": round(c.recall, 4),
        "f1": round(c.f1, 4),
        "support": c.support,
        "tp": c.tp,
        "fp": c.fp,
        "fn": c.fn,
    }


def load_samples(directory: str | Path) -> list[Sample]:
    """The samples of DIR/labels.jsonl: one object per line with `file`, `rights` and
    `lang` or `language`. Labels that are not one of the nine rights (e.g. "other") are ignored."""
    root = Path(directory)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise EvalSetError(f"{root}: no {LABELS_FILE} (one JSON object per line: "
                           '{"file": "x.eml", "rights": ["access"], "language": "nl"})')
    samples = []
    for number, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            name = item["file"]
            rights = item["rights"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalSetError(f"{labels}:{number}: {exc}") from exc
        if not isinstance(rights, list):
            raise EvalSetError(f"{labels}:{number}: rights must be a list")
        path = root / name
        if not path.is_file():
            raise EvalSetError(f"{labels}:{number}: no such file {name}")
        language = item.get("language") or item.get("lang") or ""
        kind = item.get("kind") or ""
        if kind and kind not in KINDS:
            raise EvalSetError(f"{labels}:{number}: kind {kind!r} is not one of {KINDS}")
        phenomena = tuple(str(p) for p in item.get("phenomena") or ())
        samples.append(Sample(name, path, language, frozenset(r for r in rights if r in RIGHTS),
                              kind, phenomena))
    if not samples:
        raise EvalSetError(f"{labels}: no samples")
    return samples


def evaluate(
    samples: Iterable[Sample], predict: Callable[[Sample], Prediction]
) -> EvalReport:
    """Run `predict` over the samples and count hits per right and language."""
    per_right = {right: Counts() for right in RIGHTS}
    per_language: dict[str, Counts] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    misses = []
    unflagged_misses = set()
    count = exact = language_correct = review = 0
    kind_labelled = kind_correct = stated_kind_correct = requests = wrong = wrong_flagged = 0
    kind_confusion: Counter[tuple[str, str]] = Counter()
    without_case: list[str] = []
    per_phenomenon: dict[str, PhenomenonCounts] = {}
    confidences: list[tuple[float, bool]] = []
    for sample in samples:
        count += 1
        got = predict(sample)
        expected, predicted = sample.rights, got.rights
        exact += expected == predicted
        language_correct += got.language == sample.language
        review += got.needs_review
        kind_ok = True
        if sample.kind and got.kind:
            kind_labelled += 1
            kind_ok = sample.kind == got.kind
            kind_correct += kind_ok
            stated_kind_correct += sample.kind == (got.stated_kind or got.kind)
            if not kind_ok:
                kind_confusion[(sample.kind, got.kind)] += 1
        if sample.kind == "request":
            requests += 1
            if not got.has_case:
                without_case.append(sample.name)
        right = expected == predicted and kind_ok
        if got.confidence is not None:
            confidences.append((got.confidence, expected == predicted))
        if not right:
            wrong += 1
            wrong_flagged += got.needs_review
        sample_counts = Counts(len(expected & predicted), len(predicted - expected),
                               len(expected - predicted))
        for tag in sample.phenomena:
            seen = per_phenomenon.setdefault(tag, PhenomenonCounts())
            seen.samples += 1
            seen.exact += right
            seen.rights = seen.rights + sample_counts
        for right in RIGHTS:
            delta = Counts(
                int(right in expected and right in predicted),
                int(right not in expected and right in predicted),
                int(right in expected and right not in predicted),
            )
            per_right[right] = per_right[right] + delta
            per_language[sample.language] = per_language.get(sample.language, Counts()) + delta
        missed, extra = expected - predicted, predicted - expected
        for a in sorted(missed):
            for b in sorted(extra) or ["(none)"]:
                confusion[(a, b)] += 1
        if not missed:
            for b in sorted(extra):
                confusion[("(none)", b)] += 1
        if expected != predicted:
            misses.append((sample.name, _ordered(expected), _ordered(predicted)))
            if not got.needs_review:
                unflagged_misses.add(sample.name)
    return EvalReport(per_right, per_language, count, exact, language_correct, review,
                      confusion, misses, frozenset(unflagged_misses), kind_labelled,
                      kind_correct, kind_confusion, requests, without_case, wrong,
                      wrong_flagged, per_phenomenon, confidences, stated_kind_correct)


def _ordered(rights: Iterable[str]) -> list[str]:
    return [r for r in RIGHTS if r in rights]


def format_report(report: EvalReport, baseline: Mapping[str, Any] | None = None) -> str:
    """The report as a table for people, with the change against a baseline when given."""
    data = report.to_json()
    base_rights = (baseline or {}).get("per_right", {})
    lines = [f"{'right':<20} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>7}"
             + ("  ΔF1 vs baseline" if baseline else "")]
    for right, fig in data["per_right"].items():
        if not (fig["support"] or fig["fp"]):
            continue
        row = (f"{right:<20} {fig['precision']:>6.2f} {fig['recall']:>6.2f} {fig['f1']:>6.2f}"
               f" {fig['support']:>7}")
        if baseline:
            row += "  " + _delta(fig["f1"], base_rights.get(right, {}).get("f1"))
        lines.append(row)
    micro = data["micro"]
    lines.append(f"{'micro':<20} {micro['precision']:>6.2f} {micro['recall']:>6.2f}"
                 f" {micro['f1']:>6.2f} {micro['support']:>7}"
                 + ("  " + _delta(micro["f1"], (baseline or {}).get("micro", {}).get("f1"))
                    if baseline else ""))
    lines.append(f"{'macro F1':<20} {'':>6} {'':>6} {data['macro_f1']:>6.2f}"
                 + ("  " + _delta(data["macro_f1"], (baseline or {}).get("macro_f1"))
                    if baseline else ""))
    lines.append("")
    lines.append("per language (micro): " + ", ".join(
        f"{lang or '?'} F1 {fig['f1']:.2f} (P {fig['precision']:.2f} R {fig['recall']:.2f})"
        for lang, fig in data["per_language"].items()))
    lines.append(f"exact: {data['exact']}/{data['samples']}; language detected correctly: "
                 f"{data['language_correct']}/{data['samples']}")
    unflagged = data["samples"] - data["review_flagged"]
    lines.append(f"flagged for review: {data['review_flagged']} ({data['review_flagged_wrong']}"
                 f" of them wrong); not flagged: {unflagged} ({data['unflagged_wrong']} of them"
                 " wrong)")
    if data["kind_labelled"]:
        lines.append(f"kind accuracy: {data['kind_accuracy']:.3f} ({data['kind_correct']}/"
                     f"{data['kind_labelled']}; a case to classify counted as request); " +
                     ", ".join(f"{c['expected']} -> {c['predicted']}: {c['count']}"
                               for c in data["kind_confusion"]))
        lines.append(f"kind accuracy as inspect states it (a case to classify is other): "
                     f"{data['stated_kind_accuracy']:.3f}")
    if data["requests"]:
        lines.append(f"requests without a case: {len(data['requests_without_case'])} of "
                     f"{data['requests']}" + (": " + ", ".join(data["requests_without_case"])
                                              if data["requests_without_case"] else ""))
    catch = data["review_catch_rate"]
    lines.append(f"review flag: set on {data['review_flag_rate']:.0%} of messages; catches "
                 + (f"{catch:.0%} of the wrong answers ({data['wrong_flagged']}/{data['wrong']})"
                    if catch is not None else "(no wrong answers)"))
    if data["calibration_ece"] is not None:
        lines.append(f"calibration: ECE {data['calibration_ece']:.3f} (confidence against the"
                     " rights being exactly right, 10 bins)")
    if data["per_phenomenon"]:
        lines.append("")
        lines.append(f"{'phenomenon':<32} {'n':>4} {'exact':>6} {'µF1':>6}")
        lines += [f"{name:<32} {fig['samples']:>4} {fig['exact']:>6} {fig['micro_f1']:>6.2f}"
                  for name, fig in data["per_phenomenon"].items()]
    if data["confusion"]:
        lines.append("")
        lines.append("confusion (expected -> predicted instead, count):")
        lines += [f"  {c['expected']} -> {c['predicted']}: {c['count']}"
                  for c in data["confusion"]]
    if baseline:
        lines += ["", *_changed_files(data, baseline)]
    if data["misses"]:
        lines.append("")
        lines.append("misses:")
        lines += [f"  {m['file']}: expected {m['expected'] or '[]'}, got {m['predicted'] or '[]'}"
                  + ("" if m["flagged"] else "  (not flagged for review)")
                  for m in data["misses"]]
    return "\n".join(lines)


def _delta(now: float, before: float | None) -> str:
    if before is None:
        return "new"
    diff = now - before
    return "=" if abs(diff) < 0.005 else f"{diff:+.2f}"


def _changed_files(data: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """Which files a change broke or fixed, compared with the baseline's misses."""
    before = {m["file"]: m for m in baseline.get("misses", [])}
    now = {m["file"]: m for m in data["misses"]}
    broken = sorted(set(now) - set(before))
    fixed = sorted(set(before) - set(now))
    lines = [f"against the baseline: {len(broken)} newly wrong, {len(fixed)} fixed"]
    lines += [f"  newly wrong: {name}: got {now[name]['predicted'] or '[]'}" for name in broken]
    lines += [f"  fixed: {name}" for name in fixed]
    return lines


def regressions(report: EvalReport, baseline: Mapping[str, Any], tolerance: float = 0.0
                ) -> Sequence[str]:
    """Rights (and "micro") whose F1 fell below the baseline by more than tolerance."""
    data = report.to_json()
    fallen = [
        right for right, fig in data["per_right"].items()
        if right in baseline.get("per_right", {})
        and fig["f1"] < baseline["per_right"][right]["f1"] - tolerance
    ]
    if data["micro"]["f1"] < baseline.get("micro", {}).get("f1", 0.0) - tolerance:
        fallen.append("micro")
    return fallen
