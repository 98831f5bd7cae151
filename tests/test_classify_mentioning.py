"""Mentioning a right is not exercising it: near misses get no right, own requests keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classify import Classifier
from intake.classify.exercise import assess
from intake.classify.trained import load_model

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "rules"
MODEL_DIR = ROOT / "models" / "build"

# (language, subject, body): texts that use a right's words without exercising it. Fictional,
# written for this test (not in the training corpus).
NEAR_MISSES: list[tuple[str, str, str]] = [
    ("en", "Account deletion flow",
     "As a logged-in user I want to erase my profile and photos from the app, so that I can "
     "leave for good. Acceptance criteria: a confirmation mail, data gone within a month."),
    ("en", "[Feature] export my data",
     "It would be nice to have a button that lets people download their data as CSV. "
     "Describe the solution you'd like: an export under Account settings."),
    ("en", "Add right-to-be-forgotten support",
     "This PR implements account erasure: the endpoint deletes the user row, the avatar and "
     "the session tokens. The migration adds a deleted_at column for the soft delete."),
    pytest.param(
        "en", "",
        "Hey folks, one of our customers asked to have his account removed and his e-mail "
        "deleted from the newsletter. Can someone on support duty do it before Friday?",
        marks=pytest.mark.xfail(strict=True, reason=(
            "known since the merge of issue 12's two halves: the everyday rule "
            "ERASURE_PLAIN_EN (+4) outweighs the third-party cue of exercise.py"))),
    ("en", "Privacy notice",
     "You have the right to request access to and rectification or erasure of your personal "
     "data. We process your data on the basis of your consent, which you may withdraw."),
    ("en", "Request under the Freedom of Information Act",
     "Please send me copies of the contracts the agency signed with cloud providers in 2025 "
     "and the related internal memos."),
    ("nl", "Inzage notulen",
     "Geachte, op grond van de openbaarheid van bestuur vraag ik inzage in de notulen van de "
     "raad van bestuur van 3 februari en in het bijhorende adviesrapport."),
    ("nl", "Gebruikersverhaal",
     "Als abonnee wil ik mijn gegevens kunnen verwijderen uit de app, zodat ik mijn account "
     "zelf kan opzeggen. We moeten dit nog implementeren in de backend."),
    ("fr", "Accès aux documents",
     "Madame, Monsieur, je souhaite obtenir copie des documents administratifs relatifs au "
     "marché de nettoyage des bureaux, en vertu de la publicité de l'administration."),
    ("fr", "Fonctionnalité",
     "En tant qu'utilisatrice, je veux pouvoir corriger mon adresse moi-même dans l'espace "
     "client. Critères d'acceptation : validation du code postal."),
    ("de", "Export",
     "Als Kundin möchte ich meine Daten als Datei herunterladen können. Die Funktion sollten "
     "wir im nächsten Sprint implementieren."),
    ("en", "Access requests piling up?",
     "Hi, public bodies get more and more 'delete my data' and 'send me a copy of my data' "
     "mails. Our platform automates the matching and drafts the answer. Would you be open to "
     "a 15-minute demo next week?"),
    ("en", "[Forum] Closed: \"Please remove my account\" (#77)",
     "Moderator replied: done, @fictive_user's forum account has been deleted and the posts "
     "were anonymised. Closing this thread.\n\nYou are receiving this because you are "
     "watching this category."),
    ("nl", "Uitnodiging: werksessie rechten van betrokkenen",
     "Katrien Fictief heeft u uitgenodigd voor een vergadering.\nAgenda: 1. inzage en kopie, "
     "2. verwijderen van accounts, 3. bezwaar tegen de nieuwsbrief, 4. varia."),
    ("fr", "Demande résolue : suppression de compte",
     "La demande HELP-1234 a été marquée comme résolue. Son compte a été supprimé par le "
     "service d'assistance."),
]

# (language, subject, body, rights): first-person requests that must keep their right(s).
REQUESTS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("en", "Please delete my account",
     "Hi, I no longer use your service. Please delete my account and all data about me. "
     "The username is the address I write from. Thanks.", ("erasure",)),
    ("en", "Data request",
     "I would like a copy of the personal data you hold about me, and to know who you shared "
     "it with.", ("access",)),
    ("en", "Unsubscribe",
     "I subscribed to your newsletter last year. Please unsubscribe me and remove my address.",
     ("withdraw_consent",)),
    ("nl", "gegevens verwijderen",
     "Goedemiddag, ik wil dat jullie mijn gegevens verwijderen. Ik heb geen account meer nodig.",
     ("erasure",)),
    ("nl", "Inzage",
     "Beste, graag inzage in mijn dossier. Met vriendelijke groeten, Els Fictief", ("access",)),
    ("fr", "Suppression",
     "Bonjour, je demande la suppression de mon compte et de mes données personnelles. Merci.",
     ("erasure",)),
    ("de", "Löschung",
     "Guten Tag, ich möchte, dass Sie meine Daten löschen. Mein Konto brauche ich nicht mehr.",
     ("erasure",)),
    ("en", "My account in your API portal",
     "Hello, I had an API key for a school project. Please delete my account and the key, "
     "I do not need them any more.", ("erasure",)),
    # A requester quoting the confirmation they got is not staff reporting work done.
    ("en", "Still mailed after deleting my account",
     "I deleted my account in March and got the message 'This account has been deleted'. "
     "I still receive your vacancy alerts every week. Delete my data for real this time.",
     ("erasure",)),
    ("nl", "account verwijderd maar toch nog mails",
     "Vorig jaar is mijn account verwijderd, zegt jullie site. Toch krijg ik nog elke week "
     "jullie mails. Ik wil dat jullie mijn gegevens echt verwijderen.", ("erasure",)),
]


@pytest.fixture(scope="module")
def rules_only() -> Classifier:
    return Classifier.load(RULES_DIR)


@pytest.fixture(scope="module")
def with_model() -> Classifier:
    model, note = load_model(MODEL_DIR)
    if model is None:
        pytest.skip(f"no trained model ({note}): run `make model`")
    return Classifier.load(RULES_DIR, model=model)


@pytest.mark.parametrize(("lang", "subject", "body"), NEAR_MISSES)
def test_near_miss_gets_no_right(rules_only: Classifier, with_model: Classifier,
                                 lang: str, subject: str, body: str) -> None:
    for classifier in (rules_only, with_model):
        result = classifier.classify(subject, body, lang)
        assert result.rights == (), "\n".join(result.explanation)


@pytest.mark.parametrize(("lang", "subject", "body", "rights"), REQUESTS)
def test_own_request_keeps_its_rights(rules_only: Classifier, with_model: Classifier,
                                      lang: str, subject: str, body: str,
                                      rights: tuple[str, ...]) -> None:
    # Plain-words requests are found by the model more than by the rules: what this test holds
    # is that nothing is taken off them, and that rules + model find their right.
    assert assess(subject, body).penalty == 0
    for classifier in (rules_only, with_model):
        result = classifier.classify(subject, body, lang)
        assert not any(line.startswith("MENTIONING") for line in result.explanation)
    result = with_model.classify(subject, body, lang)
    assert set(rights) <= set(result.rights), "\n".join(result.explanation)


def test_explanation_names_the_evidence(rules_only: Classifier) -> None:
    lang, subject, body = NEAR_MISSES[0]
    result = rules_only.classify(subject, body, lang)
    line = next(x for x in result.explanation if x.startswith("MENTIONING"))
    assert "every right" in line and "user story" in line and "'as a logged-in user'" in line
    assert "exercising offset" in line and "'my profile'" in line


def test_assess_offsets_mentioning_with_own_request() -> None:
    # A developer asking for their own API account to be closed mentions "api" once: no penalty.
    own = assess("Close my API account", "Please delete my account and the API key.")
    assert own.penalty == 0 and own.line is None
    story = assess("", "As a user I want to delete my account so that I can leave.")
    assert story.penalty >= 4
    foi = assess("Woo-verzoek", "Ik vraag de documenten over de aanbesteding.")
    assert foi.penalty >= 6 and "freedom-of-information" in (foi.line or "")
    assert assess("", "").penalty == 0


def test_required_literal_gates_never_skip_a_match() -> None:
    # The quick `in` test before each regex (exercise._required) must only skip regexes that
    # cannot match: checked on the corpus texts and the test texts above.
    import json

    from intake.classify import exercise

    texts = [exercise.folded(f"{s}\n{b}") for _lang, s, b in NEAR_MISSES]
    texts += [exercise.folded(f"{s}\n{b}") for _lang, s, b, _r in REQUESTS]
    for name in ("near_misses.jsonl", "en.jsonl", "nl.jsonl"):
        for line in (ROOT / "models" / "corpus" / name).read_text(encoding="utf-8").splitlines():
            texts.append(exercise.folded(json.loads(line)["text"]))
    checked = 0
    for _group, _combined, patterns, _triggers in exercise._MENTIONING + exercise._EXERCISING:
        for pattern, need in patterns:
            if need is None:
                continue
            for text in texts:
                if pattern.search(text):
                    checked += 1
                    assert any(t in text for t in need), (pattern.pattern, need)
    assert checked > 100
