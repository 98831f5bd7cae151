"""Development set for the rules: everyday phrasings of each right and of non-requests.

The rules in rules/*.yaml were tuned on these messages (unlike tests/test_classify_heldout.py,
which only measures). Every message must get exactly its rights. All text is fictional.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.classify import LANGUAGES, RIGHTS, Classifier

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"

# (language, body, expected rights)
DEV: list[tuple[str, str, tuple[str, ...]]] = [
    # --- access
    (
        "nl",
        "Ik had graag geweten welke gegevens het agentschap over mij verwerkt en waarom.",
        ("access",),
    ),
    ("nl", "Graag ontving ik een kopie van mijn personeelsdossier.", ("access",)),
    ("nl", "Kan ik mijn dossier eens komen inkijken? Ik wil weten wat erin staat.", ("access",)),
    (
        "nl",
        "Hierbij vraag ik op basis van artikel 15 AVG toegang tot mijn persoonsgegevens.",
        ("access",),
    ),
    ("nl", "Mag ik een overzicht van alles wat jullie over mij hebben opgeslagen?", ("access",)),
    (
        "fr",
        "Je souhaiterais savoir quelles informations personnelles votre service conserve à "
        "mon sujet.",
        ("access",),
    ),
    (
        "fr",
        "Merci de me transmettre une copie de l'ensemble des données me concernant.",
        ("access",),
    ),
    (
        "fr",
        "Conformément à l'article 15 du RGPD, je demande l'accès à mes données personnelles.",
        ("access",),
    ),
    (
        "en",
        "Please provide me with a copy of all personal information your organisation holds on me.",
        ("access",),
    ),
    (
        "en",
        "Could you tell me what personal details of mine are stored in your systems?",
        ("access",),
    ),
    ("en", "I'd like to see the records you keep about me.", ("access",)),
    (
        "de",
        "Ich möchte wissen, welche personenbezogenen Daten Sie über mich gespeichert haben.",
        ("access",),
    ),
    ("de", "Bitte schicken Sie mir eine Kopie der über mich gespeicherten Daten.", ("access",)),
    # --- rectification
    (
        "nl",
        "Mijn e-mailadres is gewijzigd, kunnen jullie dat aanpassen in jullie bestand?",
        ("rectification",),
    ),
    (
        "nl",
        "Mijn naam wordt verkeerd geschreven in jullie systemen, het is Van den Broeck.",
        ("rectification",),
    ),
    (
        "nl",
        "Het adres dat jullie van mij hebben is niet meer up to date. Mijn nieuwe adres is "
        "Kerkstraat 5, 2000 Antwerpen.",
        ("rectification",),
    ),
    ("nl", "Graag een correctie van mijn geboortedatum: die klopt niet.", ("rectification",)),
    (
        "fr",
        "Ma date de naissance est erronée dans votre dossier, pourriez-vous la corriger ?",
        ("rectification",),
    ),
    ("fr", "Je vous prie de rectifier mon prénom, il manque un accent.", ("rectification",)),
    (
        "en",
        "There is a mistake in my surname on your records, please correct it.",
        ("rectification",),
    ),
    ("en", "I have moved; could you update the address you have for me?", ("rectification",)),
    ("de", "Bitte berichtigen Sie meinen Vornamen, er ist falsch geschrieben.", ("rectification",)),
    ("de", "Meine Telefonnummer ist nicht mehr aktuell, bitte aktualisieren.", ("rectification",)),
    # --- erasure
    ("nl", "Ik wens dat al mijn persoonsgegevens definitief gewist worden.", ("erasure",)),
    (
        "nl",
        "Kunnen jullie mijn account op het dataportaal verwijderen? Ik gebruik het niet meer.",
        ("erasure",),
    ),
    ("nl", "Verwijder aub alles wat jullie van mij hebben.", ("erasure",)),
    ("fr", "Je vous demande d'effacer toutes les informations me concernant.", ("erasure",)),
    ("fr", "Veuillez supprimer définitivement mon compte sur votre portail.", ("erasure",)),
    ("en", "Please erase every piece of personal data you have about me.", ("erasure",)),
    ("en", "I want my account deleted along with everything linked to it.", ("erasure",)),
    ("en", "Kindly delete the photos of me from your website.", ("erasure",)),
    (
        "de",
        "Ich verlange die Löschung sämtlicher personenbezogener Daten zu meiner Person.",
        ("erasure",),
    ),
    ("de", "Bitte entfernen Sie meine Kontaktdaten aus Ihrer Datenbank.", ("erasure",)),
    # --- restriction
    (
        "nl",
        "Zolang mijn bezwaar behandeld wordt, vraag ik dat jullie mijn gegevens niet verder "
        "gebruiken maar ook nog niet wissen.",
        ("restriction",),
    ),
    (
        "nl",
        "Gelieve de verwerking van mijn gegevens stil te leggen tot de juistheid ervan "
        "gecontroleerd is.",
        ("restriction",),
    ),
    (
        "nl",
        "Ik wil dat mijn gegevens bewaard blijven voor mijn rechtszaak, maar jullie mogen ze "
        "niet meer gebruiken.",
        ("restriction",),
    ),
    (
        "nl",
        "Mag het gebruik van mijn gegevens on hold gezet worden tot de zaak is uitgeklaard?",
        ("restriction",),
    ),
    (
        "fr",
        "Je demande que mes données soient conservées mais plus utilisées, le temps de "
        "vérifier leur exactitude.",
        ("restriction",),
    ),
    (
        "fr",
        "Pouvez-vous suspendre l'utilisation de mes données jusqu'à la fin de la procédure ?",
        ("restriction",),
    ),
    (
        "en",
        "Please put the processing of my data on hold until the dispute is resolved, but do "
        "not delete anything.",
        ("restriction",),
    ),
    (
        "en",
        "I want you to limit the use of my information while you check whether it is accurate.",
        ("restriction",),
    ),
    (
        "de",
        "Bitte schränken Sie die Verarbeitung meiner Daten ein, bis die Richtigkeit geklärt ist.",
        ("restriction",),
    ),
    (
        "de",
        "Meine Daten sollen nicht gelöscht, aber vorerst nicht mehr verwendet werden.",
        ("restriction",),
    ),
    # --- objection
    (
        "nl",
        "Ik verzet mij tegen het gebruik van mijn gegevens voor wetenschappelijk onderzoek.",
        ("objection",),
    ),
    (
        "nl",
        "Ik ga niet akkoord met de verwerking van mijn gegevens op basis van jullie "
        "gerechtvaardigd belang.",
        ("objection",),
    ),
    (
        "nl",
        "Ik wil niet dat jullie mijn gegevens nog gebruiken voor marketingdoeleinden.",
        ("objection",),
    ),
    (
        "fr",
        "Je m'oppose à ce que mes données soient utilisées à des fins statistiques.",
        ("objection",),
    ),
    (
        "fr",
        "Je refuse que mes coordonnées soient utilisées pour vous envoyer de la publicité.",
        ("objection",),
    ),
    ("en", "I don't want my data used for your research projects any more.", ("objection",)),
    (
        "en",
        "Under Article 21, please stop processing my personal data on the basis of legitimate "
        "interest.",
        ("objection",),
    ),
    (
        "en",
        "I am objecting to the use of my personal information for direct mailings.",
        ("objection",),
    ),
    (
        "de",
        "Ich lege Widerspruch gegen die Verarbeitung meiner Daten zu Werbezwecken ein.",
        ("objection",),
    ),
    (
        "de",
        "Ich bin nicht damit einverstanden, dass Sie meine Daten für Statistiken verwenden.",
        ("objection",),
    ),
    # --- withdraw_consent
    (
        "nl",
        "Ik wil mijn toestemming voor het gebruik van mijn foto's intrekken.",
        ("withdraw_consent",),
    ),
    (
        "nl",
        "Gelieve mij van de mailinglijst van jullie nieuwsbrief te halen.",
        ("withdraw_consent",),
    ),
    ("nl", "Ik wens mij af te melden voor de nieuwsbrief over open data.", ("withdraw_consent",)),
    (
        "nl",
        "Mijn akkoord om gefilmd te worden tijdens het event trek ik hierbij terug.",
        ("withdraw_consent",),
    ),
    ("fr", "Je ne souhaite plus recevoir votre lettre d'information.", ("withdraw_consent",)),
    (
        "fr",
        "Je révoque l'autorisation donnée pour la diffusion de ma photo.",
        ("withdraw_consent",),
    ),
    ("en", "I no longer consent to you using my photo on your website.", ("withdraw_consent",)),
    ("en", "Please take me off your mailing list.", ("withdraw_consent",)),
    (
        "de",
        "Ich ziehe meine Zustimmung zur Veröffentlichung meines Fotos zurück.",
        ("withdraw_consent",),
    ),
    ("de", "Bitte melden Sie mich vom Newsletter ab.", ("withdraw_consent",)),
    # --- portability
    (
        "nl",
        "Ik wil mijn gegevens downloaden in een CSV-bestand om ze naar een andere dienst mee "
        "te nemen.",
        ("portability",),
    ),
    (
        "nl",
        "Ik vraag mijn gegevens in een gangbaar formaat, zodat ik ze kan hergebruiken.",
        ("portability",),
    ),
    (
        "nl",
        "Kunnen jullie mijn persoonsgegevens rechtstreeks doorsturen naar mijn nieuwe "
        "pensioenfonds?",
        ("portability",),
    ),
    ("nl", "Graag ontvang ik mijn gegevens in Excel-formaat.", ("portability",)),
    (
        "fr",
        "Je souhaite récupérer mes données dans un fichier exploitable pour les transmettre à "
        "un autre prestataire.",
        ("portability",),
    ),
    ("fr", "Merci de m'envoyer mes données au format CSV.", ("portability",)),
    ("en", "Please export my data as JSON so I can move it to another service.", ("portability",)),
    ("en", "Can you transfer my personal data directly to my new employer?", ("portability",)),
    (
        "de",
        "Bitte übermitteln Sie meine Daten direkt an meinen neuen Arbeitgeber.",
        ("portability",),
    ),
    (
        "de",
        "Ich möchte meine Daten in einem gängigen, maschinenlesbaren Format erhalten.",
        ("portability",),
    ),
    # --- complaint
    (
        "nl",
        "Ik wil een klacht indienen over de manier waarop mijn gegevens werden gedeeld.",
        ("complaint",),
    ),
    ("nl", "Ik ben het beu en stap naar de Vlaamse Toezichtcommissie.", ("complaint",)),
    (
        "nl",
        "Hierbij formuleer ik een formele klacht: mijn gegevens werden zonder mijn "
        "toestemming doorgegeven.",
        ("complaint",),
    ),
    (
        "nl",
        "Dit is onaanvaardbaar. Ik meld dit bij de Gegevensbeschermingsautoriteit.",
        ("complaint",),
    ),
    ("fr", "Je souhaite porter plainte concernant la divulgation de mes données.", ("complaint",)),
    ("fr", "Faute de réponse, je saisirai l'Autorité de protection des données.", ("complaint",)),
    (
        "en",
        "I want to complain about how my personal data was handled by your staff.",
        ("complaint",),
    ),
    ("en", "I'm reporting this data breach to the ICO.", ("complaint",)),
    ("de", "Ich reiche hiermit Beschwerde über den Umgang mit meinen Daten ein.", ("complaint",)),
    ("de", "Ohne Antwort wende ich mich an die Aufsichtsbehörde.", ("complaint",)),
    # --- automated_decision
    (
        "nl",
        "Is de weigering van mijn aanvraag automatisch gebeurd, zonder dat een medewerker "
        "ernaar keek?",
        ("automated_decision",),
    ),
    (
        "nl",
        "Ik wil dat een mens mijn dossier opnieuw bekijkt in plaats van jullie computersysteem.",
        ("automated_decision",),
    ),
    (
        "nl",
        "Ik vraag uitleg over de logica achter de automatische score die ik kreeg.",
        ("automated_decision",),
    ),
    (
        "fr",
        "Cette décision a-t-elle été prise uniquement par un logiciel ? Je souhaite qu'une "
        "personne la réexamine.",
        ("automated_decision",),
    ),
    (
        "fr",
        "Je conteste la décision prise automatiquement et demande un réexamen par un agent.",
        ("automated_decision",),
    ),
    (
        "en",
        "Was my application scored by software without any human involvement?",
        ("automated_decision",),
    ),
    (
        "en",
        "I want a person, not a computer, to review the decision on my file.",
        ("automated_decision",),
    ),
    (
        "en",
        "Please explain the logic behind the automated scoring of my test.",
        ("automated_decision",),
    ),
    (
        "de",
        "Wurde mein Antrag vollautomatisch abgelehnt? Ich möchte, dass ein Mensch ihn prüft.",
        ("automated_decision",),
    ),
    (
        "de",
        "Ich verlange eine Überprüfung der automatischen Bewertung durch einen Sachbearbeiter.",
        ("automated_decision",),
    ),
    # --- several rights in one message
    (
        "nl",
        "Ik vraag inzage in mijn gegevens en wil daarna dat alles gewist wordt.",
        ("access", "erasure"),
    ),
    (
        "en",
        "Please correct my address and unsubscribe me from your newsletter.",
        ("rectification", "withdraw_consent"),
    ),
    (
        "fr",
        "Je retire mon consentement et je vous demande de supprimer mes données.",
        ("erasure", "withdraw_consent"),
    ),
    # --- an access request that lists the Art. 15(1) items it wants to be told about: the
    # right to complain and the existence of automated decisions are items, not requests.
    (
        "nl",
        "Op grond van artikel 15 AVG vraag ik inzage in mijn persoonsgegevens. Vermeld ook: de"
        " verwerkingsdoeleinden, de ontvangers, hoe lang u ze bewaart, het recht om een klacht in"
        " te dienen bij een toezichthoudende autoriteit, de bron van de gegevens en het bestaan"
        " van geautomatiseerde besluitvorming, met nuttige informatie over de onderliggende"
        " logica.",
        ("access",),
    ),
    (
        "en",
        "Under Article 15 GDPR please give me access to my personal data, and tell me the"
        " purposes, the recipients, the storage period, my right to lodge a complaint with a"
        " supervisory authority, where the data came from, and whether automated decision-making"
        " including profiling takes place, with meaningful information about the logic involved.",
        ("access",),
    ),
    (
        "fr",
        "Conformément à l'article 15 du RGPD, je demande l'accès à mes données. Merci de préciser"
        " les finalités, les destinataires, la durée de conservation, le droit d'introduire une"
        " réclamation auprès d'une autorité de contrôle, la source des données et l'existence"
        " d'une prise de décision automatisée, y compris un profilage.",
        ("access",),
    ),
    (
        "de",
        "Gemäß Art. 15 DSGVO bitte ich um Auskunft über meine Daten: die Verarbeitungszwecke, die"
        " Empfänger, die Speicherdauer, das Bestehen eines Beschwerderechts bei einer"
        " Aufsichtsbehörde, die Herkunft der Daten und das Bestehen einer automatisierten"
        " Entscheidungsfindung einschließlich Profiling.",
        ("access",),
    ),
    (
        "en",
        "I request a copy of my data. If applicable, please also state the existence of"
        " automated decision-making referred to in Article 22(1) and (4) and the envisaged"
        " consequences for me.",
        ("access",),
    ),
    # --- a request that ends with a conditional threat: the threat alone is no complaint yet
    # (a threat on its own, "Faute de réponse, je saisirai l'Autorité", above, still is one)
    (
        "nl",
        "Verwijder al mijn gegevens. Als ik binnen de wettelijke termijn geen antwoord krijg,"
        " dien ik een klacht in bij de Vlaamse Toezichtcommissie.",
        ("erasure",),
    ),
    (
        "en",
        "Please erase all my personal data. Should you fail to respond within one month, I will"
        " lodge a complaint with the supervisory authority.",
        ("erasure",),
    ),
    (
        "fr",
        "Je vous demande d'effacer mes données. Si vous ne répondez pas dans un délai d'un mois,"
        " je déposerai une plainte auprès de l'autorité de contrôle.",
        ("erasure",),
    ),
    (
        "de",
        "Bitte löschen Sie alle meine Daten. Sollten Sie nicht innerhalb eines Monats antworten,"
        " werde ich Beschwerde bei der Aufsichtsbehörde einlegen.",
        ("erasure",),
    ),
    (
        "en",
        "I want a copy of my data, including information about any automated decision-making"
        " and the logic behind it.",
        ("access",),
    ),
    # --- Art. 22 on its own, with the same words: still an automated-decision request
    (
        "en",
        "Your system rejected my application automatically, including profiling of my CV."
        " I want a human to review it.",
        ("automated_decision",),
    ),
    # --- a complaint after a request went unanswered: the earlier request is no new request
    (
        "en",
        "I am writing to complain. On 3 March I made a subject access request and I never received"
        " an answer. I have therefore filed a complaint with the supervisory authority.",
        ("complaint",),
    ),
    (
        "nl",
        "Ik wil een klacht indienen: mijn verzoek tot inzage van 3 maart is nooit beantwoord."
        " Ik heb de zaak intussen aan de Vlaamse Toezichtcommissie voorgelegd.",
        ("complaint",),
    ),
    # --- no right exercised: questions, thanks, lists of rights, other procedures, noise
    ("nl", "Ik heb een vraag over de bewaartermijn van camerabeelden aan jullie kantoor.", ()),
    ("nl", "Bedankt voor de snelle inzage vorige maand, alles is duidelijk.", ()),
    (
        "nl",
        "In uw privacyverklaring staat dat ik recht heb op inzage, verbetering en "
        "verwijdering. Geldt dat ook voor sollicitanten?",
        (),
    ),
    (
        "nl",
        "Op basis van het openbaarheidsdecreet vraag ik een kopie van het verslag van de "
        "raad van bestuur.",
        (),
    ),
    ("nl", "Ik teken bezwaar aan tegen de weigering van mijn opleidingscheques.", ()),
    ("nl", "Uw factuur van maart is nog niet betaald, gelieve te storten.", ()),
    ("nl", "Wanneer is de volgende infosessie over de AVG voor leidinggevenden?", ()),
    ("nl", "Hoe kan ik mijn wachtwoord voor het open data portaal resetten?", ()),
    ("nl", "Kunnen jullie het verslag van de vergadering van gisteren doorsturen?", ()),
    ("nl", "Ik wil me graag inschrijven voor de nieuwsbrief over open data.", ()),
    ("nl", "Mijn collega heeft een datalek gemeld, hoe moeten we dat verder opvolgen?", ()),
    (
        "fr",
        "Pourriez-vous m'indiquer qui est le délégué à la protection des données de votre agence ?",
        (),
    ),
    ("fr", "Nous proposons une solution de cybersécurité gratuite pour votre organisation.", ()),
    ("fr", "Quel est le délai de conservation des images de vidéosurveillance ?", ()),
    ("en", "Could you tell me which legal basis you rely on for the staff survey?", ()),
    ("en", "Thank you for sending the copy of my file last week; everything is in order.", ()),
    (
        "en",
        "Your privacy notice says I have the right to access and delete my data. Does this "
        "apply to contractors?",
        (),
    ),
    ("en", "Join the webinar on our new GDPR compliance solution, free registration.", ()),
    ("en", "Please find the minutes of yesterday's meeting attached.", ()),
    ("en", "I would like to subscribe to your open data newsletter.", ()),
    ("de", "Wie lange speichern Sie die Aufnahmen der Teams-Besprechungen?", ()),
    ("de", "Ich habe eine Frage zur Rechtsgrundlage Ihrer Mitarbeiterbefragung.", ()),
    ("de", "Anbei sende ich Ihnen meine Bewerbung als Datenschutzjurist.", ()),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load(RULES_DIR)


@pytest.mark.parametrize(
    ("language", "body", "rights"),
    DEV,
    ids=[f"{i:03d}-{lang}-{'+'.join(rights) or 'none'}" for i, (lang, _, rights) in enumerate(DEV)],
)
def test_dev_message(
    classifier: Classifier, language: str, body: str, rights: tuple[str, ...]
) -> None:
    result = classifier.classify("", body, language=language)
    assert result.rights == rights, "\n".join(result.explanation)


def test_dev_set_covers_every_right_in_every_language() -> None:
    covered = {(lang, right) for lang, _, rights in DEV for right in rights}
    assert [(lang, r) for lang in LANGUAGES for r in RIGHTS if (lang, r) not in covered] == []
    assert sum(1 for _, _, rights in DEV if not rights) >= 20
