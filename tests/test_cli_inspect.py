"""`intake inspect`: the DESIGN.md JSON contract, one line per file, in order, no DB or network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import mailgen

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"kind", "language", "rights", "confidence", "needs_review", "identity", "case_ref",
        "would_acknowledge", "explanation", "disposition"}
AGO = "dpo.ago@vlaanderen.be"


def inspect(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "intake.cli", "inspect", *args],
                          capture_output=True, text=True, cwd=ROOT, check=check, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("eml")
    messages = {
        "access": mailgen.request("access", "nl", to=AGO, seed=1),
        "erasure_fr": mailgen.request("erasure", "fr", to=AGO, seed=2),
        "auto_reply": mailgen.auto_reply("en", kind="auto_submitted", to=AGO, seed=3),
        "bounce": mailgen.bounce(seed=4),
        "newsletter": mailgen.newsletter(to=AGO, seed=5),
        "followup": mailgen.followup("DPO-AGO-2026-0007", None, "nl", to=AGO, seed=6),
        "broken_boundary": mailgen.broken_mime("missing_boundary", to=AGO, seed=7),
        "bad_charset": mailgen.broken_mime("bad_charset", to=AGO, seed=8),
        "undeclared_8bit": mailgen.broken_mime("undeclared_8bit", to=AGO, seed=9),
    }
    paths = {}
    for name, raw in messages.items():
        paths[name] = d / f"{name}.eml"
        paths[name].write_bytes(raw)
    return paths


def test_json_lines_in_order_with_the_contract_keys(files):
    names = list(files)
    result = inspect(*(str(files[n]) for n in names), "--json")
    lines = result.stdout.splitlines()
    assert len(lines) == len(names)
    got = dict(zip(names, (json.loads(line) for line in lines), strict=True))
    for name, data in got.items():
        assert set(data) == KEYS, name
        assert data["identity"] == {"status": "none", "evidence": [], "dmarc_failed": False}
        assert 0.0 <= data["confidence"] <= 1.0
    assert got["access"]["kind"] == "request" and got["access"]["rights"] == ["access"]
    assert got["access"]["would_acknowledge"] is True
    assert got["erasure_fr"]["language"] == "fr" and "erasure" in got["erasure_fr"]["rights"]
    assert got["auto_reply"]["kind"] == "auto_reply" and not got["auto_reply"]["would_acknowledge"]
    assert got["bounce"]["kind"] == "bounce"
    assert got["newsletter"]["kind"] == "bulk"
    assert got["followup"]["kind"] == "followup"
    assert got["followup"]["case_ref"] == "DPO-AGO-2026-0007"
    # "Any news?" has no topic of its own, the case has: not flagged, though the classifier
    # alone would ask for review of its topic.
    assert got["followup"]["needs_review"] is False
    assert any("review (" in line and "topic unknown" in line
               for line in got["followup"]["explanation"])
    assert any(line.startswith("guard:") for line in got["auto_reply"]["explanation"])
    # The pipeline (rules, language models) is built once for the whole batch.
    assert result.stderr.count("classifier loaded") == 1


def test_unreadable_and_unparseable_files_keep_one_line_each(files, tmp_path):
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = inspect(str(files["access"]), str(tmp_path / "missing.eml"), str(empty), "--json",
                     check=False)
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["rights"] == ["access"]
    assert "cannot read" in lines[1]["error"] and "empty" in lines[2]["error"]


def test_settings_and_trust_anchors_options(files, tmp_path):
    settings = tmp_path / "intake.toml"
    settings.write_text("""
own_addresses = ["dpo.intake@vlaanderen.be"]
[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "dpo.ago@vlaanderen.be"
reference_prefix = "DPO-AGO"
[mailbox.maildir]
path = "nowhere"
""")
    result = inspect(str(files["followup"]), "--json", "--config", str(settings),
                     "--trust-anchors", str(tmp_path))
    assert json.loads(result.stdout)["case_ref"] == "DPO-AGO-2026-0007"
    bad = inspect(str(files["access"]), "--config", str(tmp_path / "nope.toml"), check=False)
    assert bad.returncode == 2 and "file not found" in bad.stderr
