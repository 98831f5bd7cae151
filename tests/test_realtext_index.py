"""The real-text index is well-formed and the repository holds no original text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from intake.rights import RIGHTS

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "tests" / "realtext" / "index.jsonl"
ORIGINALS = Path("/work/realtext/originals")
FIELDS = {"id", "url", "language", "rights", "kind", "paraphrase", "note"}
MAX_FIELD = 400  # a paraphrase is a sentence or two, never a copied message
SHINGLE = 8  # words in a row that would show copied text


def _records() -> list[dict]:
    return [json.loads(line) for line in INDEX.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def test_every_line_is_a_complete_record() -> None:
    records = _records()
    assert len(records) >= 150
    for record in records:
        assert set(record) == FIELDS, record.get("id")
        assert re.fullmatch(r"\d{3}", record["id"]), record["id"]
        assert re.fullmatch(r"[a-z]{2}", record["language"]), record["id"]
        assert record["kind"] in ("request", "near_miss"), record["id"]
        assert isinstance(record["rights"], list), record["id"]
        assert record["paraphrase"].strip(), record["id"]


def test_ids_and_urls_are_unique_and_urls_are_web_addresses() -> None:
    records = _records()
    ids = [r["id"] for r in records]
    urls = [r["url"] for r in records]
    assert len(ids) == len(set(ids))
    assert len(urls) == len(set(urls))
    for url in urls:
        parsed = urlparse(url)
        assert parsed.scheme in ("http", "https") and parsed.netloc, url


def test_labels_are_rights_and_agree_with_the_kind() -> None:
    for record in _records():
        assert set(record["rights"]) <= set(RIGHTS), record["id"]
        assert len(record["rights"]) == len(set(record["rights"])), record["id"]
        # a request exercises at least one right; a near miss exercises none
        assert (record["kind"] == "request") == bool(record["rights"]), record["id"]


def test_both_kinds_are_well_represented() -> None:
    records = _records()
    requests = sum(r["kind"] == "request" for r in records)
    assert requests >= 0.35 * len(records)
    assert len(records) - requests >= 0.35 * len(records)


def test_no_field_is_longer_than_a_paraphrase() -> None:
    for record in _records():
        for name in ("url", "paraphrase", "note"):
            assert len(record[name]) <= MAX_FIELD, (record["id"], name)


def test_the_realtext_folder_holds_only_the_index_and_its_readme() -> None:
    names = sorted(p.name for p in INDEX.parent.iterdir())
    assert names == ["README.md", "index.jsonl"]


@pytest.mark.skipif(not ORIGINALS.is_dir(), reason=f"no originals at {ORIGINALS}")
def test_no_original_text_is_in_the_repository() -> None:
    """No run of eight words of any original appears in the files this set adds.

    Web addresses are left out (a URL slug may repeat a title). The rest of the repository
    predates the set; it shares with a few originals only statutory GDPR wording (Art. 15 items),
    which the originals quote too.
    """
    originals: dict[tuple[str, ...], str] = {}
    for path in sorted(ORIGINALS.glob("*.txt")):
        for shingle in _shingles(_without_urls(path.read_text(encoding="utf-8"))):
            originals.setdefault(shingle, path.stem)
    owned = [*INDEX.parent.iterdir(), ROOT / "bench" / "realtext.py", Path(__file__)]
    found = []
    for path in owned:
        text = _without_urls(path.read_text(encoding="utf-8"))
        found += [(path.name, originals[s], " ".join(s))
                  for s in _shingles(text) & originals.keys()]
    assert not found, sorted(set(found))[:10]


def _without_urls(text: str) -> str:
    return re.sub(r"https?://\S+", " ", text)
