"""The training corpus: JSONL examples read and checked, hashed, and split by source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from intake.classify.labels import KINDS, LANGUAGES, RIGHTS

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
    kind: str = ""  # one of labels.KINDS when the line says it (the everyday mail does)


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
    kind = data.get("kind", "")
    if kind not in ("", *KINDS):
        raise CorpusError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    ordered = tuple(r for r in RIGHTS if r in rights)
    return CorpusExample(text, language, ordered, source, kind)


def digest(files: Iterable[str | Path]) -> str:
    """SHA-256 over the names and bytes of files: what a build was made from."""
    sha = hashlib.sha256()
    for file in files:
        path = Path(file)
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


FAMILIES_FILE = "families.txt"
# Sources with this prefix (the everyday-mail train split, `tests/everyday/build.py`) always
# train: that set has its own held-out dev and test splits, measured with `intake rules eval`.
TRAIN_ONLY_PREFIX = "everyday-"


def read_families(corpus_dir: str | Path) -> dict[str, str]:
    """source -> family from corpus_dir/families.txt (one family per line, sources by spaces)."""
    path = Path(corpus_dir) / FAMILIES_FILE
    if not path.exists():
        return {}
    families: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        sources = line.split("#", 1)[0].split()
        for source in sources:
            families[source] = sources[0]
    return families


def family_of(source: str, families: Mapping[str, str]) -> str:
    """The family a source belongs to: its families.txt line, else its name without the
    language prefix (fr-formal-01 and en-formal-01 are versions of one batch)."""
    source = families.get(source, source)
    prefix, _, rest = source.partition("-")
    return rest if prefix in LANGUAGES and rest else source


def split_by_source(
    examples: Sequence[CorpusExample], dev_share: float, seed: int,
    families: Mapping[str, str] | None = None,
) -> tuple[list[CorpusExample], list[CorpusExample]]:
    """(train, dev): whole source families go to dev until it holds about dev_share of them.

    A source (a template, a generator family, a hand-written batch) is never on both sides, nor
    are sources written as translations of one another (`family_of`), so near-duplicates of a
    training example cannot inflate the dev score. Families are ordered by a seeded hash, which
    keeps the split stable when unrelated sources are added.
    """
    known = families or {}
    sizes: dict[str, int] = {}
    for example in examples:
        if example.source.startswith(TRAIN_ONLY_PREFIX):
            continue
        family = family_of(example.source, known)
        sizes[family] = sizes.get(family, 0) + 1
    order = sorted(sizes, key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
    # A share of the sources that may go to dev: the everyday mail (always train) does not
    # count, or its 5,000 messages would send most of the letters and templates to dev.
    wanted = dev_share * sum(sizes.values())
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
    train = [e for e in examples if family_of(e.source, known) not in dev_sources]
    dev = [e for e in examples if family_of(e.source, known) in dev_sources]
    return train, dev
