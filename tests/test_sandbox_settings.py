"""The unit's MemoryDenyWriteExecute=yes, rebuilt with seccomp (tests/seccomp_mdwe.py): spaCy,
pdfium, Pillow and Tesseract still do their work under it (systemd-run is not available here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests import mailgen

ROOT = Path(__file__).resolve().parent.parent


def under_mdwe(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.seccomp_mdwe", "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_filter_refuses_writable_executable_memory():
    done = under_mdwe("import mmap\n"
                      "try:\n"
                      "    mmap.mmap(-1, 4096, prot=7)\n"
                      "    print('allowed')\n"
                      "except PermissionError:\n"
                      "    print('refused')\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


def test_triage_with_ocr_pdfium_and_spacy_works_under_it(tmp_path):
    card = mailgen.request("access", "nl", seed=11, **mailgen._with_id_card(11))
    letter = mailgen.plain_note(
        "Zie bijlage.", "nl", seed=12,
        attachments=[("brief.pdf", "application/pdf", mailgen.scanned_pdf(
            "Geachte,\nIk vraag inzage in mijn persoonsgegevens.\nMet vriendelijke groet"))])
    files = []
    for name, data in (("card.eml", card), ("letter.eml", letter)):
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    done = under_mdwe("import sys\nfrom intake.cli import main\n"
                      f"sys.exit(main(['inspect', '--json', *{files!r}]))\n")
    assert done.returncode == 0, done.stderr[-3000:]
    card_result, letter_result = (json.loads(line) for line in done.stdout.splitlines())
    assert card_result["rights"] == ["access"]
    assert card_result["identity"]["status"] == "id_copy"  # Pillow + Tesseract (a child process)
    # pdfium rendered the scan and Tesseract read it: the rules matched the words of the scan.
    # (Whether the model then reaches the access threshold on this five-word letter under the
    # subject "Privacy" is the classifier's business, tested on the everyday splits; short of
    # it the letter is a case to classify, on the legal clock.)
    explanation = "\n".join(letter_result["explanation"])
    assert "brief.pdf: no text layer; OCR read" in explanation, explanation
    assert "matched 'inzage in mijn'" in explanation, explanation
    assert letter_result["disposition"] in ("open_request", "to_classify"), letter_result
