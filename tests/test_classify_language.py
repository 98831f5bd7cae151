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
