"""bench/model_alone.py: a left-out writer's lines are never trained on, and are scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.benchscripts import load_bench


def _bench() -> Any:
    return load_bench("model_alone")


def _line(text: str, rights: list[str], source: str) -> str:
    return json.dumps({"text": text, "language": "nl", "rights": rights, "kind": "request",
                       "source": source})


def _corpus(tmp_path: Path) -> Path:
    """Writers w1 and w2 write the same erasure and access requests and thanks; w3 thanks and
    uses a word for erasure ("wegdoen") that nobody else uses."""
    lines = []
    for source in ("everyday-w1", "everyday-w2"):
        for n in range(6):
            lines += [_line(f"verwijder mijn gegevens nummer{n}", ["erasure"], source),
                      _line(f"inzage in mijn dossier nummer{n}", ["access"], source),
                      _line(f"bedankt voor uw antwoord nummer{n}", [], source)]
    lines += [_line(f"bedankt, wegdoen wegdoen item{n}", ["erasure"], "everyday-w3")
              for n in range(6)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "everyday-train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


def test_micro_f1_counts_every_right_decision() -> None:
    gold = np.array([[True, False], [False, True]])
    assert _bench().micro_f1(gold, gold) == 1.0
    assert _bench().micro_f1(np.array([[True, True], [False, False]]), gold) == 0.5
    assert _bench().micro_f1(np.zeros((1, 2), bool), np.zeros((1, 2), bool)) == 1.0


def test_a_left_out_writer_is_answered_by_a_model_that_never_read_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path)
    out = tmp_path / "figures.json"

    assert _bench().main(["--folds", "w1,w3", "--corpus", str(corpus), "--json", str(out)]) == 0

    figures = json.loads(out.read_text(encoding="utf-8"))
    # w2 wrote what w1 wrote: learned from w2, w1's requests are found.
    assert figures["folds"]["w1"] == {"messages": 18, "micro_f1": 1.0}
    # w3's word for erasure is only in w3's own lines, which the model did not train on: it
    # reads a thank-you.
    assert figures["folds"]["w3"] == {"messages": 6, "micro_f1": 0.0}
    assert figures["mean_micro_f1"] == 0.5
    assert "mean over 2 left-out writers, model alone: micro-F1 0.5000" in capsys.readouterr().out


def test_a_writer_without_lines_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        _bench().main(["--folds", "w9", "--corpus", str(_corpus(tmp_path))])
    assert raised.value.code == 2
