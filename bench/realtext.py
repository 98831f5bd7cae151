"""Benchmark: the pure triage on real public texts (tests/realtext/index.jsonl). Prints the figures.

    .venv/bin/python bench/realtext.py [ORIGINALS_DIR] [--json] [--no-model] [--show-misses]

The repository keeps only the URL, the label and a paraphrase of each text; the originals live
outside it (default /work/realtext/originals, one NNN.txt per index id, the title as the first
line when there is one) and can be fetched again from the URLs. Each original is wrapped as a
plain e-mail from a fictional sender to the DPO mailbox and goes through the same triage the
daemon runs (parse → guard → thread → classify → identity), loaded once.

Figures: rights micro-F1 and macro-F1 on the requests, requests that get no right, the share of
near misses that would be opened as requests, and counts per language.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INDEX = ROOT / "tests" / "realtext" / "index.jsonl"
DEFAULT_ORIGINALS = Path("/work/realtext/originals")
TO = "dpo.wse@vlaanderen.be"
TITLE_MAX = 150
# A first line ending like a sentence or an introduction is body text, not a title.
_NOT_TITLE_ENDINGS = (".", ",", ";", ":")


@dataclass(frozen=True)
class Outcome:
    """What the triage made of one text, beside its label."""

    id: str
    language: str
    kind: str  # the label: request | near_miss
    expected: frozenset[str]
    predicted: frozenset[str]
    triage_kind: str
    disposition: str
    needs_review: bool

    @property
    def opened_as_request(self) -> bool:
        return self.triage_kind == "request" or bool(self.predicted)


def load_index(path: Path = INDEX) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def split_title(text: str) -> tuple[str, str]:
    """(subject, body): the first line is the subject when it looks like a title."""
    lines = text.strip("\n").split("\n")
    first = lines[0].strip()
    if first and len(first) <= TITLE_MAX and not first.endswith(_NOT_TITLE_ENDINGS):
        return first, "\n".join(lines[1:]).strip("\n")
    return "", text.strip("\n")


def as_email(record_id: str, text: str) -> bytes:
    """One original as a plain text e-mail from a fictional sender to the DPO mailbox."""
    subject, body = split_title(text)
    msg = EmailMessage()
    msg["From"] = f"Real Text {record_id} <realtext-{record_id}@example.org>"
    msg["To"] = TO
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(idstring=f"realtext{record_id}", domain="example.org")
    msg.set_content(body + "\n" if body else "\n")
    return msg.as_bytes()


def run(originals: Path, with_model: bool = True,
        model_dir: str | None = None) -> tuple[list[Outcome], list[str]]:
    """Triage every indexed text found in `originals`; also return the ids with no original."""
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    settings = default_settings()
    if model_dir:
        settings = replace(settings, model_dir=model_dir)
    pipeline = TriagePipeline.from_settings(settings, with_model=with_model)
    outcomes, missing = [], []
    for record in load_index():
        path = originals / f"{record['id']}.txt"
        if not path.is_file():
            missing.append(record["id"])
            continue
        result = pipeline.triage_bytes(as_email(record["id"], path.read_text(encoding="utf-8")))
        outcomes.append(Outcome(
            id=record["id"], language=record["language"], kind=record["kind"],
            expected=frozenset(record["rights"]), predicted=frozenset(result.rights),
            triage_kind=result.kind, disposition=result.disposition,
            needs_review=result.needs_review,
        ))
    return outcomes, missing


def figures(outcomes: list[Outcome]) -> dict[str, Any]:
    """Rights F1 on the requests, misses, near misses opened, per-language counts."""
    from intake.classify.evaluate import Counts
    from intake.rights import RIGHTS

    requests = [o for o in outcomes if o.kind == "request"]
    near = [o for o in outcomes if o.kind == "near_miss"]
    per_right = {r: Counts() for r in RIGHTS}
    for o in requests:
        for r in RIGHTS:
            per_right[r] = per_right[r] + Counts(
                int(r in o.expected and r in o.predicted),
                int(r not in o.expected and r in o.predicted),
                int(r in o.expected and r not in o.predicted),
            )
    micro = Counts()
    for counts in per_right.values():
        micro = micro + counts
    seen = [c for c in per_right.values() if c.tp + c.fp + c.fn]
    macro = sum(c.f1 for c in seen) / len(seen) if seen else 0.0
    no_right = [o.id for o in requests if not o.predicted]
    opened = [o.id for o in near if o.opened_as_request]
    languages: dict[str, Counter[str]] = {}
    for o in outcomes:
        languages.setdefault(o.language, Counter())[o.kind] += 1
        if o.kind == "request" and o.expected == o.predicted:
            languages[o.language]["request_exact"] += 1
        if o.kind == "near_miss" and o.opened_as_request:
            languages[o.language]["near_miss_opened"] += 1
    confusion: Counter[tuple[str, str]] = Counter()
    for o in requests:
        for a in sorted(o.expected - o.predicted):
            for b in sorted(o.predicted - o.expected) or ["(none)"]:
                confusion[(a, b)] += 1
    wrong = [o for o in requests if o.expected != o.predicted] + [
        o for o in near if o.opened_as_request]
    return {
        "texts": len(outcomes),
        "requests": len(requests),
        "near_misses": len(near),
        "rights_micro": _counts(micro),
        "rights_macro_f1": round(macro, 4),
        "requests_exact": sum(o.expected == o.predicted for o in requests),
        "requests_no_right": len(no_right),
        "requests_no_right_ids": no_right,
        "near_misses_opened": len(opened),
        "near_misses_opened_share": round(len(opened) / len(near), 4) if near else 0.0,
        "near_misses_opened_ids": opened,
        "review_flagged": sum(o.needs_review for o in outcomes),
        "wrong_unflagged": sum(not o.needs_review for o in wrong),
        "per_right": {r: _counts(c) for r, c in per_right.items() if c.tp + c.fp + c.fn},
        "per_language": {lang: dict(c) for lang, c in sorted(languages.items())},
        "confusion": [{"expected": a, "predicted": b, "count": n}
                      for (a, b), n in confusion.most_common()],
        "misses": [{"id": o.id, "expected": sorted(o.expected), "predicted": sorted(o.predicted),
                    "kind": o.kind, "disposition": o.disposition, "flagged": o.needs_review}
                   for o in wrong],
    }


def _counts(c: Any) -> dict[str, float | int]:
    return {"precision": round(c.precision, 4), "recall": round(c.recall, 4),
            "f1": round(c.f1, 4), "support": c.support, "tp": c.tp, "fp": c.fp, "fn": c.fn}


def report(data: dict[str, Any], show_misses: bool) -> str:
    m = data["rights_micro"]
    lines = [
        f"texts {data['texts']}: {data['requests']} requests, {data['near_misses']} near misses",
        f"rights on the requests: micro P {m['precision']:.3f} R {m['recall']:.3f} "
        f"F1 {m['f1']:.3f}; macro-F1 {data['rights_macro_f1']:.3f}; "
        f"exact {data['requests_exact']}/{data['requests']}",
        f"requests that get no right: {data['requests_no_right']} of {data['requests']}",
        f"near misses opened as requests: {data['near_misses_opened']} of "
        f"{data['near_misses']} ({100 * data['near_misses_opened_share']:.1f}%)",
        f"review flag: {data['review_flagged']} of {data['texts']} flagged; "
        f"{data['wrong_unflagged']} wrong answers unflagged",
        "",
        "right                  P      R      F1  support",
    ]
    for right, c in data["per_right"].items():
        lines.append(f"{right:<20} {c['precision']:.3f}  {c['recall']:.3f}  {c['f1']:.3f}  "
                     f"{c['support']:>4}")
    lines += ["", "language  requests  exact  near_misses  opened"]
    for lang, c in data["per_language"].items():
        lines.append(f"{lang:<8}  {c.get('request', 0):>8}  {c.get('request_exact', 0):>5}  "
                     f"{c.get('near_miss', 0):>11}  {c.get('near_miss_opened', 0):>6}")
    if data["confusion"]:
        lines += ["", "expected -> predicted (requests)"]
        lines += [f"  {c['expected']} -> {c['predicted']}: {c['count']}"
                  for c in data["confusion"][:12]]
    if show_misses:
        lines += ["", "wrong answers (id: expected -> predicted, disposition, flagged)"]
        lines += [f"  {w['id']} [{w['kind']}]: {','.join(w['expected']) or '-'} -> "
                  f"{','.join(w['predicted']) or '-'}  {w['disposition']}"
                  f"{'  flagged' if w['flagged'] else ''}" for w in data["misses"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("originals", nargs="?", default=str(DEFAULT_ORIGINALS),
                        help=f"directory of NNN.txt originals (default {DEFAULT_ORIGINALS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-model", action="store_true", help="rules alone, without the model")
    parser.add_argument("--model-dir", help="the trained model (default: the settings' one)")
    parser.add_argument("--show-misses", action="store_true", help="list the wrong answers by id")
    args = parser.parse_args(argv)
    originals = Path(args.originals)
    if not originals.is_dir():
        print(f"skipped: no originals at {originals} (the repository keeps only URLs, labels "
              "and paraphrases; fetch the texts from the URLs in tests/realtext/index.jsonl "
              "into NNN.txt files there, or pass the directory)", file=sys.stderr)
        return 0
    outcomes, missing = run(originals, with_model=not args.no_model,
                            model_dir=args.model_dir)
    if not outcomes:
        print(f"skipped: none of the indexed texts is in {originals}", file=sys.stderr)
        return 0
    data = figures(outcomes)
    data["model"] = not args.no_model
    data["missing_originals"] = missing
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(report(data, args.show_misses))
        if missing:
            print(f"\n{len(missing)} indexed text(s) have no original here: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
