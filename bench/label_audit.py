"""Benchmark: are the classifier's remaining errors its own, or disagreements about the label?

    .venv/bin/python bench/label_audit.py sample DIR [--wrong 160] [--right 60] [--seed 12]
    .venv/bin/python bench/label_audit.py score DIR

`sample` answers the training corpus out of fold, as the build does to fit the review flag
(reviewfit.answers_out_of_fold: five folds of whole source families, each everyday writer one
family; the rules, a model trained without the fold and the current build's calibration). It
draws `--wrong` everyday answers whose rights differ from the writer's label and `--right` whose
rights match (the control), shuffles them and writes, in DIR:

- AUDIT.md: the instructions for an auditor, with the label definitions of
  tests/everyday/BRIEF.md that the writers had;
- part0.jsonl, part1.jsonl: the texts only (n, language, text), for two auditors;
- key.json: per n, the writer's label, the classifier's answer, the writer and the control mark.

An auditor who sees neither label writes answers-part0.jsonl / answers-part1.jsonl
({"n", "rights", "sure", "why"} per line). `score` then prints, for the wrong answers, how often
the auditor sides with the writer and how often with the classifier, right by right; the control
shows how often auditor and writer agree when the classifier does too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BRIEF = ROOT / "tests" / "everyday" / "BRIEF.md"
PARTS = 2
TEXT_CHARS = 2500
INSTRUCTIONS = """# Label audit: which GDPR rights does each message exercise?

You are a careful data-protection lawyer (DPO) of two Flemish government bodies (the Departement
Werk en Sociale Economie, dpo.wse@vlaanderen.be, and the Agentschap Overheidspersoneel,
dpo.ago@vlaanderen.be). Each line of your part file is one fictional e-mail sent to one of those
mailboxes (the text the sender wrote; quoted replies and signatures may have been cut).
Decide, for each, which rights the sender EXERCISES. Use exactly these definitions:

{labels}
You label only `rights` (a list, empty if none), not the kind. Decide each message on its own
text, as the DPO who must answer it would. Open no other file than your part file and your
answers file.

Write your answers to answers-<part>.jsonl beside the part file, one JSON object per line, in the
same order: {{"n": <n>, "rights": [...], "sure": true|false, "why": "<at most 15 words>"}}
`sure` is false when a careful colleague could reasonably decide otherwise.
"""


def label_definitions() -> str:
    """The "labels" section of the writers' brief, word for word."""
    brief = BRIEF.read_text(encoding="utf-8")
    return brief[brief.index("## The labels"):brief.index("## Format")]


def everyday_answers() -> list[tuple[Any, Any]]:
    """(example, classification) for every everyday training example, answered out of fold."""
    from intake.classify.corpus import (
        TRAIN_ONLY_PREFIX,
        corpus_files,
        read_corpus,
        read_families,
        split_by_source,
    )
    from intake.classify.engine import Classifier
    from intake.classify.modelbuild import (
        DEFAULT_CONFIG,
        DEFAULT_CORPUS_DIR,
        DEV_SHARE,
        fold_trainer,
    )
    from intake.classify.reviewfit import answers_out_of_fold
    from intake.classify.trained import TrainedModel
    from intake.classify.training import Variant, load_config
    from intake.config import DEFAULT_RULES_DIR

    variant = Variant()
    config = load_config(DEFAULT_CONFIG, variant)
    families = read_families(DEFAULT_CORPUS_DIR)
    train, _ = split_by_source(read_corpus(corpus_files(DEFAULT_CORPUS_DIR)), DEV_SHARE,
                               int(config["training"]["seed"]), families)
    calibration = TrainedModel.load().info.calibration  # the current build's
    answers = sorted(answers_out_of_fold(train, families, Classifier.load(DEFAULT_RULES_DIR),
                                         fold_trainer(config, variant, calibration)),
                     key=lambda pair: pair[0])
    return [(train[i], got) for i, got in answers
            if train[i].source.startswith(TRAIN_ONLY_PREFIX)]


def sample(out: Path, wrong: int, right: int, seed: int) -> None:
    """Write AUDIT.md, the part files and key.json into `out`."""
    answers = everyday_answers()
    wrong_pool = [a for a in answers if set(a[1].rights) != set(a[0].rights)]
    right_pool = [a for a in answers if set(a[1].rights) == set(a[0].rights) and a[0].rights]
    rng = random.Random(seed)
    drawn = ([("wrong", a) for a in rng.sample(wrong_pool, min(wrong, len(wrong_pool)))]
             + [("control", a) for a in rng.sample(right_pool, min(right, len(right_pool)))])
    rng.shuffle(drawn)
    out.mkdir(parents=True, exist_ok=True)
    (out / "AUDIT.md").write_text(INSTRUCTIONS.format(labels=label_definitions()),
                                  encoding="utf-8")
    key = []
    parts: list[list[str]] = [[] for _ in range(PARTS)]
    for n, (mark, (example, got)) in enumerate(drawn, 1):
        key.append({"n": n, "mark": mark, "source": example.source, "language": example.language,
                    "writer": list(example.rights), "classifier": list(got.rights)})
        parts[(n - 1) % PARTS].append(json.dumps(
            {"n": n, "language": example.language, "text": example.text[:TEXT_CHARS]},
            ensure_ascii=False))
    for number, lines in enumerate(parts):
        (out / f"part{number}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    drew = Counter(mark for mark, _ in drawn)
    print(f"{len(wrong_pool)} wrong and {len(right_pool)} right everyday answers out of fold; "
          f"drew {drew['wrong']} and {drew['control']} into {out}")


def score(out: Path) -> None:
    """Print who the auditors side with."""
    key = {k["n"]: k for k in json.loads((out / "key.json").read_text(encoding="utf-8"))}
    audit: dict[int, dict[str, Any]] = {}
    for path in sorted(out.glob("answers-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                answer = json.loads(line)
                audit[int(answer["n"])] = answer
    missing = sorted(set(key) - set(audit))
    if missing:
        print(f"no answer for {len(missing)} of {len(key)} messages: {missing[:10]}")
    for mark in ("control", "wrong"):
        rows = [(key[n], audit[n]) for n in sorted(audit) if key[n]["mark"] == mark]
        sides = Counter(_side(k, a) for k, a in rows)
        sure = Counter(_side(k, a) for k, a in rows if a.get("sure"))
        writer, classifier = sides["writer"] + sides["both"], sides["classifier"] + sides["both"]
        print(f"{mark}: {len(rows)} answers; the auditor's rights equal the writer's {writer}, "
              f"the classifier's {classifier}, neither {sides['neither']} (sure: "
              f"{sum(sure.values())}, of which writer {sure['writer'] + sure['both']}, "
              f"classifier {sure['classifier'] + sure['both']})")
    per_right: Counter[tuple[str, str, str]] = Counter()
    for n, answer in audit.items():
        k = key[n]
        if k["mark"] != "wrong":
            continue
        writer, classifier, auditor = set(k["writer"]), set(k["classifier"]), set(answer["rights"])
        for right in writer ^ classifier:
            how = "missed" if right in writer else "added"
            per_right[(right, how, "writer" if (right in auditor) == (right in writer)
                       else "classifier")] += 1
    print("where writer and classifier differ on a right: the auditor sides with")
    for right in sorted({r for r, _, _ in per_right}):
        counts = [per_right[(right, how, side)] for how in ("missed", "added")
                  for side in ("writer", "classifier")]
        print(f"  {right:20s} missed by the classifier: writer {counts[0]:3d} classifier "
              f"{counts[1]:3d} | added: writer {counts[2]:3d} classifier {counts[3]:3d}")


def _side(key: dict[str, Any], answer: dict[str, Any]) -> str:
    auditor = set(answer["rights"])
    writer, classifier = auditor == set(key["writer"]), auditor == set(key["classifier"])
    return "both" if writer and classifier else "writer" if writer else (
        "classifier" if classifier else "neither")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("sample", help="answer out of fold and draw the audit sample")
    draw.add_argument("dir", type=Path)
    draw.add_argument("--wrong", type=int, default=160)
    draw.add_argument("--right", type=int, default=60)
    draw.add_argument("--seed", type=int, default=12)
    scored = commands.add_parser("score", help="compare the auditors' answers with both labels")
    scored.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "sample":
        from intake.classify.trained import ModelError

        if args.wrong < 0 or args.right < 0:
            parser.error("--wrong and --right must be 0 or more")
        try:
            sample(args.dir, args.wrong, args.right, args.seed)
        except ModelError as exc:  # the fold models take the current build's calibration
            parser.error(str(exc))
    else:
        if not (args.dir / "key.json").is_file():
            parser.error(f"{args.dir}: no key.json (run `sample` first)")
        score(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
