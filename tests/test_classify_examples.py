"""Hand-written example messages in four languages: the rights (or topic) each must get."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classify import Classifier

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"

# (language, subject, body, expected rights, expected topic or None). All fictional.
EXAMPLES: list[tuple[str, str, str, tuple[str, ...], str | None]] = [
    # --- Dutch: access
    (
        "nl",
        "Inzage",
        "Goedemiddag, graag inzage in mijn dossier. Met vriendelijke groeten, Jan Peeters",
        ("access",),
        "request",
    ),
    (
        "nl",
        "",
        "Welke gegevens hebben jullie over mij? Ik ontving een brief en weet niet waarom.",
        ("access",),
        None,
    ),
    (
        "nl",
        "Vraag AVG",
        "Beste DPO, ik wens gebruik te maken van mijn recht op inzage.",
        ("access",),
        None,
    ),
    (
        "nl",
        "",
        "Kan ik een kopie van mijn persoonsgegevens krijgen die bij AgO bewaard worden?",
        ("access",),
        None,
    ),
    (
        "nl",
        "mijn gegevens",
        "Ik wil graag weten wat jullie over mij bijhouden en met wie het gedeeld wordt.",
        ("access",),
        None,
    ),
    # --- Dutch: rectification
    (
        "nl",
        "adreswijziging",
        "Mijn adres is veranderd, pas dat aan. Nieuw adres: Dorpsstraat 1, 9000 Gent.",
        ("rectification",),
        None,
    ),
    (
        "nl",
        "",
        "Mijn familienaam staat foutief in jullie systeem, gelieve dit te verbeteren.",
        ("rectification",),
        None,
    ),
    (
        "nl",
        "",
        "Ik beroep me op mijn recht op verbetering: mijn geboortedatum is onjuist.",
        ("rectification",),
        None,
    ),
    # --- Dutch: erasure
    (
        "nl",
        "Vergeet mij",
        "Vergeet mij a.u.b., ik wil niet meer in jullie bestanden staan.",
        ("erasure",),
        None,
    ),
    ("nl", "", "Schrap mij uit jullie adressenbestand.", ("erasure",), None),
    (
        "nl",
        "account",
        "Gelieve mijn account op het open data portaal en alle gegevens te verwijderen.",
        ("erasure",),
        None,
    ),
    (
        "nl",
        "",
        "Ik vraag de wissing van mijn persoonsgegevens conform het recht op vergetelheid.",
        ("erasure",),
        None,
    ),
    # --- Dutch: restriction
    (
        "nl",
        "",
        "Ik vraag de beperking van de verwerking van mijn gegevens zolang mijn klacht loopt.",
        ("restriction",),
        None,
    ),
    (
        "nl",
        "",
        "Bewaar mijn gegevens maar gebruik ze tijdelijk niet tot het onderzoek afgerond is.",
        ("restriction",),
        None,
    ),
    # --- Dutch: objection vs withdrawal of consent
    (
        "nl",
        "Bezwaar",
        "Ik maak bezwaar tegen de verwerking van mijn gegevens voor jullie enquêtes.",
        ("objection",),
        None,
    ),
    (
        "nl",
        "",
        "Ik trek mijn toestemming in voor het gebruik van mijn foto op jullie website.",
        ("withdraw_consent",),
        None,
    ),
    (
        "nl",
        "nieuwsbrief",
        "Graag wil ik mij uitschrijven voor de nieuwsbrief.",
        ("withdraw_consent",),
        None,
    ),
    (
        "nl",
        "",
        "Schrijf mij uit aub, ik wil geen mails meer ontvangen.",
        ("withdraw_consent",),
        None,
    ),
    # --- Dutch: portability, complaint, automated decision
    (
        "nl",
        "",
        "Ik wil mijn gegevens ontvangen in een machineleesbaar formaat zodat ik ze kan meenemen.",
        ("portability",),
        None,
    ),
    (
        "nl",
        "",
        "Graag mijn persoonsgegevens in een gestructureerd bestand, ik wil ze overdragen aan een "
        "andere werkgever.",
        ("portability",),
        None,
    ),
    (
        "nl",
        "Klacht",
        "Ik ben zeer ontevreden over de behandeling van mijn gegevens en dien een klacht in "
        "bij de Vlaamse Toezichtcommissie.",
        ("complaint",),
        None,
    ),
    ("nl", "", "Als ik geen antwoord krijg, stap ik naar de GBA.", ("complaint",), None),
    (
        "nl",
        "",
        "Werd mijn kandidatuur afgewezen via geautomatiseerde besluitvorming? Ik vraag menselijke "
        "tussenkomst.",
        ("automated_decision",),
        None,
    ),
    (
        "nl",
        "",
        "Gebruiken jullie profilering bij de selectie? Ik wil weten hoe dat algoritme werkt.",
        ("automated_decision",),
        None,
    ),
    # --- Dutch: several rights in one message
    (
        "nl",
        "AVG-verzoek",
        "Ik vraag inzage in mijn dossier en daarna de verwijdering van al mijn gegevens.",
        ("access", "erasure"),
        None,
    ),
    # --- Dutch: questions, noise, negatives
    (
        "nl",
        "vraag",
        "Ik heb een vraag over de cookies op jullie website. Hoe lang is de bewaartermijn?",
        (),
        "question",
    ),
    (
        "nl",
        "",
        "Vorig jaar heb ik inzage gekregen in mijn dossier, bedankt daarvoor. Nu vraag ik me af "
        "of jullie camera's gebruiken aan de ingang?",
        (),
        "question",
    ),
    (
        "nl",
        "openbaarheid",
        "Op grond van de openbaarheid van bestuur vraag ik inzage in de notulen van de raad.",
        (),
        None,
    ),
    (
        "nl",
        "Factuur 2026-014",
        "In bijlage vindt u factuur 2026-014. Gelieve het bedrag te betalen binnen 30 dagen.",
        (),
        "noise",
    ),
    (
        "nl",
        "Uitnodiging: overleg privacy",
        "Deelnemen aan Microsoft Teams-vergadering. Vergadering-id: 123 456",
        (),
        "noise",
    ),
    (
        "nl",
        "Sollicitatie",
        "Graag solliciteer ik voor de vacature van jurist. In bijlage mijn cv en motivatiebrief.",
        (),
        "noise",
    ),
    ("nl", "", "Ik maak bezwaar tegen de beslissing over mijn premie.", (), None),
    # --- French
    (
        "fr",
        "Droit d'accès",
        "Bonjour, j'exerce mon droit d'accès et souhaite obtenir une copie de mes données.",
        ("access",),
        None,
    ),
    ("fr", "", "Quelles données détenez-vous sur moi ?", ("access",), None),
    (
        "fr",
        "",
        "Mon adresse a changé, merci de corriger mes coordonnées.",
        ("rectification",),
        None,
    ),
    ("fr", "", "Je demande l’effacement de toutes mes données personnelles.", ("erasure",), None),
    (
        "fr",
        "Oubliez-moi",
        "Supprimez mon compte et mes données, s'il vous plaît.",
        ("erasure",),
        None,
    ),
    ("fr", "", "Je demande la limitation du traitement de mes données.", ("restriction",), None),
    (
        "fr",
        "",
        "Je m'oppose au traitement de mes données à des fins de prospection.",
        ("objection",),
        None,
    ),
    (
        "fr",
        "",
        "Je retire mon consentement pour la publication de ma photo.",
        ("withdraw_consent",),
        None,
    ),
    (
        "fr",
        "Newsletter",
        "Merci de me désinscrire de votre newsletter.",
        ("withdraw_consent",),
        None,
    ),
    (
        "fr",
        "",
        "Je voudrais recevoir mes données dans un format structuré et lisible par machine.",
        ("portability",),
        None,
    ),
    (
        "fr",
        "Plainte",
        "Sans réponse de votre part, je déposerai une plainte auprès de l'APD.",
        ("complaint",),
        None,
    ),
    (
        "fr",
        "",
        "Ma demande a-t-elle été rejetée par une décision automatisée ? Je demande une "
        "intervention humaine.",
        ("automated_decision",),
        None,
    ),
    (
        "fr",
        "Facture",
        "Veuillez trouver ci-joint la facture n° 4411 pour nos services.",
        (),
        "noise",
    ),
    (
        "fr",
        "",
        "J'ai une question sur votre politique de cookies : combien de temps les conservez-vous ?",
        (),
        "question",
    ),
    # --- English
    (
        "en",
        "Subject access request",
        "Please treat this e-mail as a subject access request.",
        ("access",),
        None,
    ),
    ("en", "", "What personal data do you hold about me?", ("access",), None),
    ("en", "", "My address has changed, please update my details.", ("rectification",), None),
    (
        "en",
        "",
        "Please delete my account and all data you hold on me. Forget me.",
        ("erasure",),
        None,
    ),
    (
        "en",
        "",
        "I request the restriction of processing of my data while you verify its accuracy.",
        ("restriction",),
        None,
    ),
    (
        "en",
        "",
        "I object to the processing of my personal data for direct marketing.",
        ("objection",),
        None,
    ),
    (
        "en",
        "",
        "I hereby withdraw my consent for the use of my photograph.",
        ("withdraw_consent",),
        None,
    ),
    ("en", "newsletter", "Please unsubscribe me from the newsletter.", ("withdraw_consent",), None),
    (
        "en",
        "",
        "Please send me my data in a machine-readable format so I can transfer it to another "
        "provider.",
        ("portability",),
        None,
    ),
    (
        "en",
        "",
        "If I do not hear from you I will lodge a complaint with the supervisory authority.",
        ("complaint",),
        None,
    ),
    (
        "en",
        "",
        "Was I rejected by an automated decision? I want human intervention.",
        ("automated_decision",),
        None,
    ),
    (
        "en",
        "Invoice INV-2291",
        "Please find attached invoice INV-2291. Amount due within 30 days.",
        (),
        "noise",
    ),
    (
        "en",
        "",
        "Congratulations, you have won a prize! Claim your prize now with bitcoin.",
        (),
        "noise",
    ),
    (
        "en",
        "",
        "I have a question about your privacy notice: how long do you keep CCTV images?",
        (),
        "question",
    ),
    # --- German
    (
        "de",
        "Auskunftsersuchen",
        "Ich bitte um Auskunft über meine personenbezogenen Daten gemäß Art. 15 DSGVO.",
        ("access",),
        None,
    ),
    (
        "de",
        "",
        "Meine Adresse hat sich geändert, bitte korrigieren Sie meine Angaben.",
        ("rectification",),
        None,
    ),
    ("de", "", "Bitte löschen Sie alle meine Daten.", ("erasure",), None),
    (
        "de",
        "",
        "Ich verlange die Einschränkung der Verarbeitung meiner Daten.",
        ("restriction",),
        None,
    ),
    ("de", "", "Ich widerspreche der Verarbeitung meiner Daten.", ("objection",), None),
    (
        "de",
        "",
        "Hiermit widerrufe ich meine Einwilligung zur Nutzung meiner Fotos.",
        ("withdraw_consent",),
        None,
    ),
    (
        "de",
        "",
        "Bitte senden Sie mir meine Daten in einem maschinenlesbaren Format.",
        ("portability",),
        None,
    ),
    ("de", "", "Ich werde mich bei der Datenschutzbehörde beschweren.", ("complaint",), None),
    (
        "de",
        "",
        "Wurde über meinen Antrag automatisiert entschieden? Ich verlange eine automatisierte "
        "Entscheidung zu überprüfen durch menschliches Eingreifen.",
        ("automated_decision",),
        None,
    ),
    ("de", "Rechnung 7781", "Anbei erhalten Sie unsere Rechnung Nr. 7781.", (), "noise"),
    (
        "de",
        "",
        "Ich habe eine Frage zu Ihrer Datenschutzerklärung: Welche Cookies verwenden Sie?",
        (),
        "question",
    ),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(RULES_DIR)


@pytest.mark.parametrize(
    ("language", "subject", "body", "rights", "topic"),
    EXAMPLES,
    ids=[f"{i:02d}-{e[0]}-{'+'.join(e[3]) or e[4] or 'none'}" for i, e in enumerate(EXAMPLES)],
)
def test_example(
    classifier: Classifier,
    language: str,
    subject: str,
    body: str,
    rights: tuple[str, ...],
    topic: str | None,
) -> None:
    result = classifier.classify(subject, body, language=language)
    assert result.rights == rights, "\n".join(result.explanation)
    if topic is not None:
        assert result.topic == topic, "\n".join(result.explanation)


def test_examples_cover_every_right_in_every_language() -> None:
    from intake.classify import LANGUAGES, RIGHTS

    covered = {(lang, right) for lang, _, _, rights, _ in EXAMPLES for right in rights}
    missing = [(lang, r) for lang in LANGUAGES for r in RIGHTS if (lang, r) not in covered]
    assert not missing


def test_detected_language_gives_same_rights(classifier: Classifier) -> None:
    # Without a language hint the detector picks the pipeline; most examples must agree.
    agree = sum(
        classifier.classify(subject, body).rights == rights
        for _, subject, body, rights, _ in EXAMPLES
    )
    assert agree >= 0.9 * len(EXAMPLES)
