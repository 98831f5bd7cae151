"""Figures: what the triage's disposition is on the bundled corpora, and how many person-written
messages (and labelled requests) would get no case at all. Prints a Markdown table.

    .venv/bin/python bench/dispositions.py [--no-model] [--public DIR]

Texts (tests/eval, models/corpus, the public templates) are sent as plain mails from a person
with an empty subject, so only their words decide; examples/mailbox holds real .eml files.
A request "without a case" is a labelled request whose disposition is list_only or robot: the
fail-safe's target is 0. models/corpus is the training corpus (the classifier has seen it), so
its to_classify figure flatters the classifier; tests/eval and the public templates have not
been seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PUBLIC = ROOT.parent.parent / "shared" / "corpus" / "public-templates"
NO_CASE = ("list_only", "robot")
ORDER = ("open_request", "open_question", "to_classify", "followup", "list_only", "robot")

Item = tuple[bytes, tuple[str, ...] | None]  # raw mail, labelled rights (None: unlabelled)


def as_mail(text: str, seed: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Jan Peeters <jan.peeters{seed}@example.be>"
    msg["To"] = "dpo.ago@vlaanderen.be"
    msg["Subject"] = ""
    msg["Message-ID"] = f"<corpus-{seed}@example.be>"
    msg.set_content(text)
    return msg.as_bytes()


def labelled_texts(directory: Path, labels: str = "labels.jsonl") -> Iterator[Item]:
    for n, line in enumerate((directory / labels).read_text(encoding="utf-8").splitlines()):
        entry = json.loads(line)
        text = (directory / entry["file"]).read_text(encoding="utf-8")
        yield as_mail(text, n), tuple(entry["rights"])


def training_corpus() -> Iterator[Item]:
    n = 0
    for path in sorted((ROOT / "models" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            n += 1
            yield as_mail(entry["text"], 10_000 + n), tuple(entry["rights"])


def example_mailbox() -> Iterator[Item]:
    for path in sorted((ROOT / "examples" / "mailbox").glob("*/new/*")):
        yield path.read_bytes(), None


def generated_mix(per_kind: int = 20) -> Iterator[Item]:
    """tests/mailgen.py .eml files, `per_kind` of each: requests (labelled), questions, invoices,
    calendar invitations, advertising spam, newsletters, auto-replies, bounces."""
    from tests import mailgen

    for seed in range(per_kind):
        right = mailgen.RIGHTS[seed % len(mailgen.RIGHTS)]
        lang = ("nl", "fr", "en", "de")[seed % 4]
        yield mailgen.request(right, lang, seed=seed), (right,)
        yield mailgen.question(lang, seed=seed), ()
        yield mailgen.invoice(seed=seed), ()
        yield mailgen.meeting_invitation(seed=seed), ()
        yield mailgen.spam(("en", "nl")[seed % 2], seed=seed), ()
        yield mailgen.newsletter(seed=seed), ()
        yield mailgen.auto_reply(lang, seed=seed), ()
        yield mailgen.bounce(seed=seed), ()


def measure(pipeline, items: Iterator[Item]) -> dict[str, object]:
    dispositions: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    missed: list[str] = []
    evidence: Counter[str] = Counter()
    for raw, rights in items:
        triage = pipeline.triage_bytes(raw)
        disposition = str(triage.disposition)
        dispositions[disposition] += 1
        if triage.no_case is not None:
            evidence[triage.no_case.kind] += 1
        if rights:
            requests[disposition] += 1
            if disposition in NO_CASE:
                missed.append(f"{disposition}: {'; '.join(triage.explanation[-2:])}")
    return {"dispositions": dispositions, "requests": requests, "missed": missed,
            "evidence": evidence}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true", help="classify on the rules alone")
    parser.add_argument("--public", default=str(PUBLIC), help="the public templates directory")
    args = parser.parse_args()

    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(replace(default_settings()),
                                            with_model=not args.no_model)
    corpora: list[tuple[str, Iterator[Item]]] = [
        ("examples/mailbox (.eml)", example_mailbox()),
        ("tests/eval", labelled_texts(ROOT / "tests" / "eval")),
        ("models/corpus (training)", training_corpus()),
        ("tests/mailgen mix (.eml)", generated_mix()),
    ]
    if Path(args.public).is_dir():
        corpora.append(("shared public-templates", labelled_texts(Path(args.public))))
    print(f"classifier: {'rules alone' if args.no_model else 'rules + trained model'}\n")
    print("| corpus | messages | " + " | ".join(ORDER) + " | requests | requests to_classify "
          "| requests without a case | person-written without a case |")
    print("|---" * (len(ORDER) + 6) + "|")
    details = []
    for name, items in corpora:
        found = measure(pipeline, items)
        d, r = found["dispositions"], found["requests"]
        total = sum(d.values())
        labelled = name != "examples/mailbox (.eml)"
        person_no_case = sum(d[k] for k in NO_CASE) if "(.eml)" not in name else "-"
        cells = [str(d[k]) for k in ORDER]
        requests = sum(r.values())
        print(f"| {name} | {total} | " + " | ".join(cells)
              + f" | {requests if labelled else '-'} | {r['to_classify'] if labelled else '-'} "
              + f"| {sum(r[k] for k in NO_CASE) if labelled else '-'} | {person_no_case} |")
        if found["evidence"]:
            details.append(f"{name}: list_only evidence {dict(found['evidence'])}")
        details.extend(f"{name}: request without a case: {m}" for m in found["missed"])
    print()
    for line in details:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
