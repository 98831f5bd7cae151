"""Language detection: the four languages, and Dutch when undecidable."""

from __future__ import annotations

import pytest

from intake.classify import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Goedemiddag, ik had graag inzage gekregen in mijn dossier bij het agentschap.", "nl"),
        ("Beste, mijn adres is veranderd. Kunnen jullie dat aanpassen? Dank u wel.", "nl"),
        ("Bonjour, je souhaite exercer mon droit d'accès à mes données personnelles.", "fr"),
        ("Madame, Monsieur, veuillez supprimer mon compte. Cordialement.", "fr"),
        ("Hello, I would like a copy of all personal data you hold about me.", "en"),
        ("Please remove me from your mailing list, thank you.", "en"),
        ("Sehr geehrte Damen und Herren, bitte löschen Sie meine Daten.", "de"),
        ("Ich widerrufe hiermit meine Einwilligung zur Verarbeitung meiner Daten.", "de"),
    ],
)
def test_detects_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "12345 !!! 06/07", "\n\n"])
def test_undecidable_is_dutch(text: str) -> None:
    assert detect_language(text) == "nl"


def test_little_words_decide_plain_text_and_leave_the_rest_to_lingua() -> None:
    from intake.classify.language import _function_word_vote

    plain = {
        "nl": "Ik wil graag een kopie van mijn gegevens, dat is voor het werk.",
        "fr": "Je vous prie de supprimer mes données et de ne pas les garder.",
        "en": "Please send me a copy of the data that you have about my file.",
        "de": "Bitte löschen Sie meine Daten, ich will das nicht mehr und auch",
    }
    for lang, text in plain.items():
        assert _function_word_vote(text) == lang
    assert _function_word_vote("pls delete my data asap") is None  # too few words: lingua decides
    mixed = "Ik wil graag mijn gegevens. Please delete the data you have and your copy of this."
    assert _function_word_vote(mixed) is None  # no clear majority: lingua decides


def test_the_vote_agrees_with_the_labels_of_the_corpus() -> None:
    import json
    from pathlib import Path

    from intake.classify.language import MAX_CHARS, _function_word_vote

    corpus = Path(__file__).resolve().parents[1] / "models" / "corpus"
    decided = wrong = 0
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            example = json.loads(line)
            if example["source"].startswith("everyday-") and not example["rights"]:
                # The writers labelled robots (bounces quoting an English server text) by the
                # language of the conversation, not of the text.
                continue
            voted = _function_word_vote(example["text"][:MAX_CHARS])
            decided += voted is not None
            wrong += voted is not None and voted != example["language"]
    assert decided > 1000 and wrong == 0
