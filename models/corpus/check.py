"""Check the training corpus: schema, counts per language/right/source, duplicates."""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

RIGHTS = ("access", "rectification", "erasure", "restriction", "objection", "portability",
          "withdraw_consent", "complaint", "automated_decision")
LANGUAGES = ("nl", "fr", "en", "de")
KEYS = {"text", "language", "rights", "source"}


def normalise(text: str) -> str:
    """Lowercase, strip accents and punctuation, collapse whitespace."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


def shingles(norm: str) -> set[tuple[str, ...]]:
    """Word trigrams (or the single short text) for near-duplicate detection."""
    words = norm.split()
    if len(words) < 3:
        return {tuple(words)}
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def load(path: Path, errors: list[str]) -> list[dict]:
    """Read one JSONL file, recording schema problems as 'file:line: problem'."""
    rows = []
    expected_lang = path.stem if path.stem in LANGUAGES else None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{n}"
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc.msg})")
            continue
        if set(row) != KEYS:
            errors.append(f"{where}: keys {sorted(row)} != {sorted(KEYS)}")
            continue
        if not isinstance(row["text"], str) or not row["text"].strip():
            errors.append(f"{where}: empty text")
        if row["language"] not in LANGUAGES or (expected_lang and row["language"] != expected_lang):
            errors.append(f"{where}: language {row['language']!r} in {path.name}")
        rights = row["rights"]
        if not isinstance(rights, list) or any(r not in RIGHTS for r in rights):
            errors.append(f"{where}: unknown right in {rights!r}")
        elif len(set(rights)) != len(rights):
            errors.append(f"{where}: repeated right in {rights!r}")
        source = row["source"]
        if not isinstance(source, str) or not source.startswith(f"{row['language']}-"):
            errors.append(f"{where}: source {row['source']!r} does not start with the language")
        row["_where"] = where
        rows.append(row)
    return rows


def report_language(lang: str, rows: list[dict], near: float) -> list[str]:
    """Print the counts of one language; return duplicate findings."""
    n = len(rows)
    labels = Counter(r for row in rows for r in row["rights"])
    none = sum(1 for row in rows if not row["rights"])
    multi = sum(1 for row in rows if len(row["rights"]) > 1)
    sources: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        sources[row["source"]].update(row["rights"] or ["(none)"])
    print(f"== {lang}: {n} examples, {len(sources)} sources, "
          f"no right {none} ({none / n:.0%}), multi-right {multi} ({multi / n:.0%})")
    for right in RIGHTS:
        print(f"   {right:<20} {labels[right]:>4}")
    for source, counts in sorted(sources.items()):
        size = sum(1 for row in rows if row["source"] == source)
        print(f"   source {source:<32} {size:>3} examples, {len(counts)} labels")

    findings = []
    seen: dict[str, str] = {}
    norms = []
    for row in rows:
        norm = normalise(row["text"])
        if norm in seen:
            findings.append(f"duplicate: {row['_where']} = {seen[norm]}")
        seen.setdefault(norm, row["_where"])
        norms.append((row, shingles(norm)))
    for i, (a, sa) in enumerate(norms):
        for b, sb in norms[i + 1:]:
            if a["source"] == b["source"] or len(sa) < 4 or len(sb) < 4:
                continue
            jaccard = len(sa & sb) / len(sa | sb)
            if jaccard >= near:
                findings.append(f"near-duplicate across sources ({jaccard:.2f}): "
                                f"{a['_where']} [{a['source']}] ~ {b['_where']} [{b['source']}]")
    return findings


def main(argv: list[str] | None = None) -> int:
    """Check the given corpus files (default: every *.jsonl next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--near", type=float, default=0.8,
                        help="trigram Jaccard at which texts of two sources are near-duplicates")
    args = parser.parse_args(argv)
    files = args.files or sorted(Path(__file__).parent.glob("*.jsonl"))
    errors: list[str] = []
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for path in files:
        for row in load(path, errors):
            by_lang[row["language"]].append(row)
    findings: list[str] = []
    for lang in LANGUAGES:
        if by_lang[lang]:
            findings += report_language(lang, by_lang[lang], args.near)
    total = sum(len(rows) for rows in by_lang.values())
    print(f"== total: {total} examples")
    for line in errors + findings:
        print(line)
    print(f"{len(errors)} schema errors, {len(findings)} duplicates")
    return 1 if errors or findings else 0


if __name__ == "__main__":
    sys.exit(main())
