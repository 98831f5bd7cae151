"""The training corpus: JSONL examples read and checked, hashed, and split by source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from intake.classify.labels import LANGUAGES, RIGHTS

CORPUS_GLOB = "*.jsonl"


class CorpusError(ValueError):
    """A corpus line that cannot be used, with its file and line number."""


@dataclass(frozen=True)
class CorpusExample:
    """One training example: what the requester wrote, its language, rights and origin."""

    text: str
    language: str
    rights: tuple[str, ...]
    source: str


def corpus_files(corpus_dir: str | Path) -> list[Path]:
    """The *.jsonl files of corpus_dir in name order (staff corrections*.jsonl included)."""
    return sorted(Path(corpus_dir).glob(CORPUS_GLOB))


def read_corpus(files: Iterable[str | Path]) -> list[CorpusExample]:
    """Every example of every file; CorpusError naming file:line for a bad line."""
    examples: list[CorpusExample] = []
    for file in files:
        path = Path(file)
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    examples.append(_example(line, f"{path.name}:{number}"))
    return examples


def _example(line: str, where: str) -> CorpusExample:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    text, language, rights = data.get("text"), data.get("language"), data.get("rights")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: 'text' must be a non-empty string")
    if language not in LANGUAGES:
        raise CorpusError(f"{where}: 'language' must be one of {', '.join(LANGUAGES)}")
    if not isinstance(rights, list) or any(r not in RIGHTS for r in rights):
        raise CorpusError(f"{where}: 'rights' must be a list of: {', '.join(RIGHTS)}")
    source = data.get("source")
    if not isinstance(source, str) or not source:
        raise CorpusError(f"{where}: 'source' must be a non-empty string")
    ordered = tuple(r for r in RIGHTS if r in rights)
    return CorpusExample(text, language, ordered, source)


def digest(files: Iterable[str | Path]) -> str:
    """SHA-256 over the names and bytes of files: what a build was made from."""
    sha = hashlib.sha256()
    for file in files:
        path = Path(file)
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def split_by_source(
    examples: Sequence[CorpusExample], dev_share: float, seed: int
) -> tuple[list[CorpusExample], list[CorpusExample]]:
    """(train, dev): whole sources go to dev until it holds about dev_share of the examples.

    A source (a template, a generator family, a hand-written batch) is never on both sides,
    so near-duplicates of a training example cannot inflate the dev score. Sources are ordered
    by a seeded hash, which keeps the split stable when unrelated sources are added.
    """
    sizes: dict[str, int] = {}
    for example in examples:
        sizes[example.source] = sizes.get(example.source, 0) + 1
    order = sorted(sizes, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    wanted = dev_share * len(examples)
    dev_sources: set[str] = set()
    held = 0
    for source in order:
        if held >= wanted:
            break
        # Never let one huge source take the whole dev share (or more).
        if held + sizes[source] > 1.5 * wanted:
            continue
        dev_sources.add(source)
        held += sizes[source]
    train = [e for e in examples if e.source not in dev_sources]
    dev = [e for e in examples if e.source in dev_sources]
    return train, dev
