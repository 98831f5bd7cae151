"""Fictional e-mails as raw bytes (stdlib email, CRLF) for tests, the demo mailbox and benchmarks.

Every generator takes the same keyword options (see MailOptions) and returns the bytes of one
message. With a seed the output is byte-for-byte reproducible; without one, every call differs
(fresh Message-ID), which is what end-to-end tests that append to a real server want.
All names, addresses and facts are invented; example.org / example.be domains only.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message, MIMEPart
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
AGO = "dpo.ago@vlaanderen.be"
WSE = "dpo.wse@vlaanderen.be"
CONTROLLERS = {"ago": AGO, "wse": WSE}
RIGHTS = (
    "access", "rectification", "erasure", "restriction", "objection",
    "portability", "withdraw_consent", "complaint", "automated_decision",
)
LANGUAGES = ("nl", "fr", "en", "de")
AUTO_REPLY_KINDS = ("ooo", "auto_submitted", "x_autoreply", "exchange")
BROKEN_VARIANTS = ("missing_boundary", "undeclared_8bit", "bad_charset")
DEMO_SUFFIX = "dpo-intake-demo"

Attachments = Sequence[tuple[str, str, bytes]]  # (file name, content type, data)


class MailOptions(TypedDict, total=False):
    """Keyword options every generator accepts."""

    to: str
    sender: tuple[str, str] | None  # (display name, address)
    subject: str | None
    html: bool
    message_id: str | None
    in_reply_to: str | None
    date: datetime | None
    seed: int | None
    attachments: Attachments


# --- people --------------------------------------------------------------------------------

PEOPLE: dict[str, tuple[str, ...]] = {
    "nl": ("Jan Peeters", "Els Janssens", "Pieter De Smet", "Sofie Maes", "Tom Claes",
           "An Wouters", "Koen Jacobs", "Lien Mertens"),
    "fr": ("Marie Dubois", "Luc Lambert", "Camille Dupont", "Julien Leroy", "Sophie Martin",
           "Nicolas Renard"),
    "en": ("Emily Clarke", "James Walker", "Sarah Bennett", "David Hughes", "Olivia Turner"),
    "de": ("Anna Schmidt", "Lukas Becker", "Julia Wagner", "Felix Hoffmann"),
}
PERSONAL_DOMAINS = ("example.be", "example.org", "mail.example.org")

# --- request texts: right -> language -> phrasings (written for this project) --------------

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "access": {
        "nl": (
            "Graag had ik inzage gekregen in de persoonsgegevens die jullie over mij bijhouden.",
            "Op grond van artikel 15 van de AVG vraag ik een kopie van alle gegevens die u over "
            "mij verwerkt, samen met de doeleinden en de bewaartermijn.",
            "Kunt u mij laten weten welke gegevens over mij bij uw diensten geregistreerd staan "
            "en aan wie die werden doorgegeven?",
        ),
        "fr": (
            "Je souhaiterais avoir accès aux données personnelles que vous détenez à mon sujet.",
            "Conformément à l'article 15 du RGPD, je vous prie de me transmettre une copie de "
            "toutes les données me concernant que vous traitez.",
            "Pourriez-vous m'indiquer quelles informations sur moi figurent dans vos fichiers "
            "et à qui elles ont été communiquées ?",
        ),
        "en": (
            "I would like to access the personal data you hold about me.",
            "Under Article 15 GDPR, please send me a copy of all personal data you process about "
            "me, together with the purposes and how long you keep it.",
            "Could you tell me what information your services have on file about me and who it "
            "has been shared with?",
        ),
        "de": (
            "Ich möchte Auskunft über die personenbezogenen Daten erhalten, die Sie über mich "
            "gespeichert haben.",
            "Gemäß Artikel 15 DSGVO bitte ich um eine Kopie aller Daten, die Sie über mich "
            "verarbeiten.",
            "Können Sie mir mitteilen, welche Informationen über mich bei Ihnen vorliegen und an "
            "wen sie weitergegeben wurden?",
        ),
    },
    "rectification": {
        "nl": (
            "Mijn adres staat verkeerd in jullie bestanden; ik ben verhuisd naar de "
            "Voorbeeldstraat 12 in 9000 Gent. Gelieve dit te verbeteren.",
            "Ik vraag de rechtzetting van mijn geboortedatum, die foutief geregistreerd werd.",
            "Mijn familienaam wordt in jullie brieven telkens verkeerd gespeld. Kunnen jullie "
            "dat corrigeren?",
        ),
        "fr": (
            "Mon adresse n'est plus correcte dans vos fichiers : j'habite désormais rue de "
            "l'Exemple 5, 1000 Bruxelles. Merci de la rectifier.",
            "Je demande la rectification de ma date de naissance, qui a été enregistrée de "
            "manière erronée.",
            "Mon nom de famille est mal orthographié dans vos courriers ; pourriez-vous le "
            "corriger ?",
        ),
        "en": (
            "My address in your records is out of date; I have moved to 12 Example Street, "
            "2000 Antwerp. Please correct it.",
            "I am asking you to rectify my date of birth, which was recorded incorrectly.",
            "My surname is misspelled in all your letters. Could you correct it, please?",
        ),
        "de": (
            "Meine Adresse ist in Ihren Unterlagen nicht mehr aktuell; ich wohne jetzt in der "
            "Beispielstraße 7, 4700 Eupen. Bitte berichtigen Sie dies.",
            "Ich beantrage die Berichtigung meines Geburtsdatums, das falsch erfasst wurde.",
            "Mein Nachname ist in Ihren Schreiben falsch geschrieben. Könnten Sie das korrigieren?",
        ),
    },
    "erasure": {
        "nl": (
            "Ik wil dat jullie al mijn persoonsgegevens verwijderen.",
            "Graag had ik dat mijn account en alle bijbehorende gegevens definitief gewist worden.",
            "Op basis van het recht om vergeten te worden vraag ik de wissing van mijn gegevens "
            "uit jullie bestanden.",
        ),
        "fr": (
            "Je vous demande de supprimer toutes mes données personnelles.",
            "Merci d'effacer définitivement mon compte ainsi que toutes les données qui y sont "
            "liées.",
            "Au titre du droit à l'oubli, je demande l'effacement de mes données de vos fichiers.",
        ),
        "en": (
            "Please delete all personal data you hold about me.",
            "I would like my account and everything linked to it to be erased permanently.",
            "I am exercising my right to be forgotten and ask you to remove my details from your "
            "systems.",
        ),
        "de": (
            "Bitte löschen Sie alle meine personenbezogenen Daten.",
            "Ich möchte, dass mein Konto und alle damit verbundenen Daten endgültig gelöscht "
            "werden.",
            "Unter Berufung auf das Recht auf Vergessenwerden beantrage ich die Löschung meiner "
            "Daten.",
        ),
    },
    "restriction": {
        "nl": (
            "Zolang de juistheid van mijn gegevens betwist wordt, vraag ik de beperking van de "
            "verwerking ervan.",
            "Gelieve mijn gegevens niet verder te gebruiken, maar ze ook nog niet te wissen: ik "
            "heb ze nodig voor een lopende procedure.",
            "Ik verzoek u het gebruik van mijn persoonsgegevens tijdelijk stil te leggen tot u de "
            "juistheid ervan hebt nagekeken.",
        ),
        "fr": (
            "Tant que l'exactitude de mes données est contestée, je demande la limitation de "
            "leur traitement.",
            "Merci de ne plus utiliser mes données sans les effacer pour autant : j'en ai besoin "
            "dans le cadre d'une procédure en cours.",
            "Je vous prie de geler temporairement l'utilisation de mes données personnelles "
            "jusqu'à ce que vous ayez vérifié leur exactitude.",
        ),
        "en": (
            "While the accuracy of my data is being contested, I request that you restrict its "
            "processing.",
            "Please stop using my data but do not delete it yet, as I need it for ongoing legal "
            "proceedings.",
            "I ask you to put the processing of my personal data on hold until you have checked "
            "that it is accurate.",
        ),
        "de": (
            "Solange die Richtigkeit meiner Daten bestritten wird, beantrage ich die "
            "Einschränkung der Verarbeitung.",
            "Bitte verwenden Sie meine Daten nicht weiter, löschen Sie sie aber noch nicht, da "
            "ich sie für ein laufendes Verfahren benötige.",
            "Ich bitte Sie, die Verarbeitung meiner personenbezogenen Daten vorläufig "
            "auszusetzen, bis Sie deren Richtigkeit geprüft haben.",
        ),
    },
    "objection": {
        "nl": (
            "Ik maak bezwaar tegen de verwerking van mijn gegevens voor enquêtes en nieuwsbrieven.",
            "Ik ga er niet mee akkoord dat jullie mijn gegevens op basis van jullie "
            "gerechtvaardigd belang blijven gebruiken en teken daartegen verzet aan.",
            "Gelieve mij niet langer te contacteren voor tevredenheidsonderzoeken; ik verzet mij "
            "tegen dat gebruik van mijn gegevens.",
        ),
        "fr": (
            "Je m'oppose au traitement de mes données à des fins d'enquêtes et de lettres "
            "d'information.",
            "Je n'accepte pas que vous continuiez à utiliser mes données sur la base de votre "
            "intérêt légitime et j'exerce mon droit d'opposition.",
            "Merci de ne plus me contacter pour des enquêtes de satisfaction ; je m'oppose à "
            "cette utilisation de mes données.",
        ),
        "en": (
            "I object to the processing of my data for surveys and newsletters.",
            "I do not agree that you keep using my data on the basis of your legitimate interest, "
            "and I hereby object to it.",
            "Please stop contacting me for satisfaction surveys; I object to my details being "
            "used that way.",
        ),
        "de": (
            "Ich widerspreche der Verarbeitung meiner Daten für Umfragen und Newsletter.",
            "Ich bin nicht damit einverstanden, dass Sie meine Daten auf Grundlage Ihres "
            "berechtigten Interesses weiter nutzen, und lege hiermit Widerspruch ein.",
            "Bitte kontaktieren Sie mich nicht mehr für Zufriedenheitsumfragen; ich widerspreche "
            "dieser Nutzung meiner Daten.",
        ),
    },
    "portability": {
        "nl": (
            "Ik wil mijn gegevens ontvangen in een gangbaar, machineleesbaar formaat zodat ik ze "
            "aan een andere organisatie kan bezorgen.",
            "Op grond van het recht op overdraagbaarheid vraag ik dat u mijn gegevens "
            "rechtstreeks doorstuurt naar mijn nieuwe werkgever.",
            "Kan ik een export van mijn accountgegevens krijgen, bijvoorbeeld als CSV- of "
            "JSON-bestand?",
        ),
        "fr": (
            "Je souhaite recevoir mes données dans un format structuré et lisible par machine "
            "afin de les transmettre à un autre organisme.",
            "Au titre du droit à la portabilité, je vous demande de transférer directement mes "
            "données à mon nouvel employeur.",
            "Serait-il possible d'obtenir un export de mes données de compte, par exemple en CSV "
            "ou en JSON ?",
        ),
        "en": (
            "I would like to receive my data in a structured, machine-readable format so that I "
            "can pass it on to another organisation.",
            "Under the right to data portability, please transmit my data directly to my new "
            "employer.",
            "Can I get an export of my account data, for instance as a CSV or JSON file?",
        ),
        "de": (
            "Ich möchte meine Daten in einem strukturierten, maschinenlesbaren Format erhalten, "
            "um sie einer anderen Stelle zu übermitteln.",
            "Auf Grundlage des Rechts auf Datenübertragbarkeit bitte ich Sie, meine Daten direkt "
            "an meinen neuen Arbeitgeber zu übermitteln.",
            "Kann ich einen Export meiner Kontodaten bekommen, zum Beispiel als CSV- oder "
            "JSON-Datei?",
        ),
    },
    "withdraw_consent": {
        "nl": (
            "Ik trek mijn toestemming voor het gebruik van mijn foto's op jullie website in.",
            "De toestemming die ik gaf om opgenomen te worden tijdens het webinar wil ik "
            "intrekken.",
            "Ik wens niet langer dat jullie mijn gegevens gebruiken op basis van de toestemming "
            "die ik eerder gaf; die toestemming herroep ik hierbij.",
        ),
        "fr": (
            "Je retire mon consentement à l'utilisation de mes photos sur votre site web.",
            "Je souhaite retirer le consentement que j'avais donné pour être enregistré pendant "
            "le webinaire.",
            "Je ne souhaite plus que vous utilisiez mes données sur la base du consentement donné "
            "précédemment ; je le révoque par la présente.",
        ),
        "en": (
            "I withdraw my consent to the use of my photos on your website.",
            "I would like to withdraw the consent I gave to being recorded during the webinar.",
            "I no longer want you to use my data on the basis of the consent I gave earlier; I "
            "hereby revoke it.",
        ),
        "de": (
            "Ich widerrufe meine Einwilligung zur Verwendung meiner Fotos auf Ihrer Website.",
            "Ich möchte die Einwilligung zurückziehen, die ich für die Aufzeichnung während des "
            "Webinars gegeben habe.",
            "Ich möchte nicht länger, dass Sie meine Daten auf Grundlage meiner früheren "
            "Einwilligung nutzen; diese widerrufe ich hiermit.",
        ),
    },
    "complaint": {
        "nl": (
            "Ik wil een klacht indienen over de manier waarop mijn gegevens behandeld werden: "
            "mijn dossier werd naar een verkeerde persoon gestuurd.",
            "Ik ben ontevreden over hoe jullie met mijn persoonsgegevens omgaan en overweeg een "
            "klacht bij de Vlaamse Toezichtcommissie.",
            "Dit is een formele klacht: ik kreeg een e-mail waarin de adressen van alle "
            "deelnemers zichtbaar waren.",
        ),
        "fr": (
            "Je souhaite introduire une plainte concernant la manière dont mes données ont été "
            "traitées : mon dossier a été envoyé à une mauvaise personne.",
            "Je ne suis pas satisfait de la façon dont vous gérez mes données personnelles et "
            "j'envisage de saisir l'Autorité de protection des données.",
            "Ceci est une plainte formelle : j'ai reçu un e-mail dans lequel les adresses de tous "
            "les participants étaient visibles.",
        ),
        "en": (
            "I want to file a complaint about how my data was handled: my file was sent to the "
            "wrong person.",
            "I am unhappy with the way you handle my personal data and I am considering a "
            "complaint to the supervisory authority.",
            "This is a formal complaint: I received an e-mail in which the addresses of all "
            "participants were visible.",
        ),
        "de": (
            "Ich möchte mich darüber beschweren, wie mit meinen Daten umgegangen wurde: Meine "
            "Akte wurde an eine falsche Person geschickt.",
            "Ich bin unzufrieden damit, wie Sie mit meinen personenbezogenen Daten umgehen, und "
            "erwäge eine Beschwerde bei der Datenschutzbehörde.",
            "Dies ist eine förmliche Beschwerde: Ich habe eine E-Mail erhalten, in der die "
            "Adressen aller Teilnehmer sichtbar waren.",
        ),
    },
    "automated_decision": {
        "nl": (
            "Mijn kandidatuur werd afgewezen zonder dat er een mens naar gekeken heeft. Ik vraag "
            "een menselijke tussenkomst en uitleg over de logica achter die beslissing.",
            "Ik wil niet onderworpen worden aan een besluit dat automatisch genomen werd op basis "
            "van mijn profiel.",
            "Graag meer uitleg over de geautomatiseerde beoordeling van mijn dossier; ik wil mijn "
            "standpunt kunnen geven en de beslissing aanvechten.",
        ),
        "fr": (
            "Ma candidature a été rejetée sans qu'un humain l'ait examinée. Je demande une "
            "intervention humaine et des explications sur la logique de cette décision.",
            "Je ne souhaite pas faire l'objet d'une décision prise automatiquement sur la base de "
            "mon profil.",
            "Je voudrais des explications sur l'évaluation automatisée de mon dossier ; je "
            "souhaite pouvoir exprimer mon point de vue et contester la décision.",
        ),
        "en": (
            "My application was rejected without any person looking at it. I ask for human "
            "intervention and an explanation of the logic behind that decision.",
            "I do not want to be subject to a decision taken automatically on the basis of my "
            "profile.",
            "Please explain the automated assessment of my file; I want to be able to give my "
            "point of view and contest the decision.",
        ),
        "de": (
            "Meine Bewerbung wurde abgelehnt, ohne dass ein Mensch sie geprüft hat. Ich verlange "
            "das Eingreifen einer Person und eine Erklärung der Logik dieser Entscheidung.",
            "Ich möchte keiner Entscheidung unterworfen werden, die automatisch auf Grundlage "
            "meines Profils getroffen wurde.",
            "Bitte erläutern Sie die automatisierte Bewertung meiner Akte; ich möchte meinen "
            "Standpunkt darlegen und die Entscheidung anfechten können.",
        ),
    },
}

SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "access": {
        "nl": ("Verzoek tot inzage", "Inzage persoonsgegevens", "Vraag naar mijn gegevens"),
        "fr": ("Demande d'accès", "Accès à mes données personnelles"),
        "en": ("Subject access request", "Request for a copy of my data"),
        "de": ("Auskunftsersuchen nach Art. 15 DSGVO", "Auskunft über meine Daten"),
    },
    "rectification": {
        "nl": ("Verbetering van mijn gegevens", "Rechtzetting adres"),
        "fr": ("Demande de rectification", "Correction de mes données"),
        "en": ("Correction of my details", "Rectification request"),
        "de": ("Berichtigung meiner Daten", "Antrag auf Berichtigung"),
    },
    "erasure": {
        "nl": ("Verwijdering van mijn gegevens", "Verzoek tot wissing"),
        "fr": ("Suppression de mes données", "Demande d'effacement"),
        "en": ("Please delete my data", "Erasure request"),
        "de": ("Löschung meiner Daten", "Antrag auf Löschung"),
    },
    "restriction": {
        "nl": ("Beperking van de verwerking", "Gebruik van mijn gegevens opschorten"),
        "fr": ("Limitation du traitement", "Demande de limitation"),
        "en": ("Restriction of processing", "Please put my data on hold"),
        "de": ("Einschränkung der Verarbeitung", "Antrag auf Einschränkung"),
    },
    "objection": {
        "nl": ("Bezwaar tegen verwerking", "Verzet tegen gebruik van mijn gegevens"),
        "fr": ("Opposition au traitement", "Droit d'opposition"),
        "en": ("Objection to processing", "I object"),
        "de": ("Widerspruch gegen die Verarbeitung", "Widerspruch"),
    },
    "portability": {
        "nl": ("Overdraagbaarheid van gegevens", "Export van mijn gegevens"),
        "fr": ("Portabilité des données", "Export de mes données"),
        "en": ("Data portability request", "Export of my data"),
        "de": ("Datenübertragbarkeit", "Export meiner Daten"),
    },
    "withdraw_consent": {
        "nl": ("Intrekking toestemming", "Toestemming foto's"),
        "fr": ("Retrait du consentement", "Retrait de mon accord"),
        "en": ("Withdrawal of consent", "Consent withdrawn"),
        "de": ("Widerruf der Einwilligung", "Einwilligung zurückziehen"),
    },
    "complaint": {
        "nl": ("Klacht", "Klacht over gegevensverwerking"),
        "fr": ("Plainte", "Plainte protection des données"),
        "en": ("Complaint", "Complaint about my data"),
        "de": ("Beschwerde", "Beschwerde Datenschutz"),
    },
    "automated_decision": {
        "nl": ("Geautomatiseerde beslissing", "Menselijke tussenkomst gevraagd"),
        "fr": ("Décision automatisée", "Demande d'intervention humaine"),
        "en": ("Automated decision", "Request for human review"),
        "de": ("Automatisierte Entscheidung", "Menschliches Eingreifen"),
    },
}
VAGUE_SUBJECTS = {
    "nl": ("AVG-verzoek", "Privacy", "Mijn gegevens"),
    "fr": ("RGPD", "Mes données"),
    "en": ("GDPR request", "Privacy"),
    "de": ("DSGVO-Anfrage", "Datenschutz"),
}
GREETINGS = {
    "nl": ("Geachte heer, mevrouw,", "Beste,", "Dag,", "Goedemiddag,"),
    "fr": ("Madame, Monsieur,", "Bonjour,"),
    "en": ("Dear Sir or Madam,", "Hello,", "Dear Data Protection Officer,"),
    "de": ("Sehr geehrte Damen und Herren,", "Guten Tag,"),
}
CONTEXTS = {  # neutral background sentences: they exercise no right
    "nl": (
        "Vorig jaar heb ik deelgenomen aan een van jullie opleidingen.",
        "Ik ben ingeschreven op jullie nieuwsbrief.",
        "Enkele jaren geleden heb ik gesolliciteerd voor een functie bij de Vlaamse overheid.",
        "Ik heb een account op jullie open dataportaal.",
    ),
    "fr": (
        "L'année dernière, j'ai participé à l'une de vos formations.",
        "Je suis abonné à votre lettre d'information.",
        "Il y a quelques années, j'ai posé ma candidature pour un poste à l'administration "
        "flamande.",
        "J'ai un compte sur votre portail de données ouvertes.",
    ),
    "en": (
        "Last year I took part in one of your training courses.",
        "I am subscribed to your newsletter.",
        "A few years ago I applied for a job with the Flemish government.",
        "I have an account on your open data portal.",
    ),
    "de": (
        "Letztes Jahr habe ich an einer Ihrer Schulungen teilgenommen.",
        "Ich bin für Ihren Newsletter angemeldet.",
        "Vor einigen Jahren habe ich mich auf eine Stelle bei der flämischen Verwaltung beworben.",
        "Ich habe ein Konto auf Ihrem Open-Data-Portal.",
    ),
}
PLEASE_CONFIRM = {
    "nl": ("Gelieve de ontvangst van deze vraag te bevestigen.", ""),
    "fr": ("Merci de bien vouloir accuser réception de ce message.", ""),
    "en": ("Please confirm that you have received this message.", ""),
    "de": ("Bitte bestätigen Sie den Eingang dieser Nachricht.", ""),
}
CLOSINGS = {
    "nl": ("Met vriendelijke groeten,", "Alvast bedankt,", "Groeten,"),
    "fr": ("Cordialement,", "Bien à vous,", "Meilleures salutations,"),
    "en": ("Kind regards,", "Best regards,", "Thank you,"),
    "de": ("Mit freundlichen Grüßen,", "Viele Grüße,"),
}

# Genuine questions or remarks for the DPO that exercise no right: (subject, body).
QUESTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "nl": (
        ("Vraag over bewaartermijn",
         "Hoe lang bewaren jullie de opnames van Teams-vergaderingen? Ik vraag het uit interesse: "
         "in onze eigen organisatie moeten we ook een bewaartermijn vastleggen."),
        ("Vraag over cookies",
         "Welke cookies gebruikt jullie website precies, en worden er gegevens doorgegeven aan "
         "partijen buiten de Europese Unie?"),
        ("Suggestie privacyverklaring",
         "Een suggestie: het zou handig zijn als jullie privacyverklaring per dienst een "
         "overzicht gaf van welke verwerker betrokken is."),
    ),
    "fr": (
        ("Question sur la durée de conservation",
         "Combien de temps conservez-vous les enregistrements des réunions Teams ? Je pose la "
         "question par intérêt : nous devons aussi fixer une durée dans notre organisation."),
        ("Question sur les cookies",
         "Quels cookies votre site web utilise-t-il exactement, et des données sont-elles "
         "transmises à des parties en dehors de l'Union européenne ?"),
    ),
    "en": (
        ("Question about retention",
         "How long do you keep the recordings of Teams meetings? I am asking out of interest, "
         "as we have to set a retention period in our own organisation too."),
        ("Question about cookies",
         "Which cookies does your website use exactly, and is any data passed to parties "
         "outside the European Union?"),
    ),
    "de": (
        ("Frage zur Speicherdauer",
         "Wie lange bewahren Sie die Aufzeichnungen von Teams-Besprechungen auf? Ich frage aus "
         "Interesse, weil wir in unserer Organisation auch eine Frist festlegen müssen."),
        ("Frage zu Cookies",
         "Welche Cookies verwendet Ihre Website genau, und werden Daten an Stellen außerhalb "
         "der Europäischen Union übermittelt?"),
    ),
}

FOLLOWUP_TEXTS = {
    "nl": ("Re: Uw verzoek {ref}",
           "Ik heb u eerder een verzoek gestuurd (referentie {ref}). Kunt u mij laten weten "
           "hoe ver het staat en wanneer ik een antwoord mag verwachten?",
           "Zoals gevraagd stuur ik in bijlage een kopie van mijn identiteitskaart voor dossier "
           "{ref}.",
           "Wij hebben uw verzoek goed ontvangen onder referentie {ref}."),
    "fr": ("Re: Votre demande {ref}",
           "Je vous ai envoyé une demande (référence {ref}). Pourriez-vous me dire où elle en "
           "est et quand je peux espérer une réponse ?",
           "Comme demandé, vous trouverez en annexe une copie de ma carte d'identité pour le "
           "dossier {ref}.",
           "Nous avons bien reçu votre demande sous la référence {ref}."),
    "en": ("Re: Your request {ref}",
           "I sent you a request earlier (reference {ref}). Could you let me know where things "
           "stand and when I can expect an answer?",
           "As requested, please find attached a copy of my identity card for file {ref}.",
           "We have received your request under reference {ref}."),
    "de": ("Re: Ihr Antrag {ref}",
           "Ich habe Ihnen einen Antrag geschickt (Referenz {ref}). Können Sie mir sagen, wie "
           "der Stand ist und wann ich mit einer Antwort rechnen kann?",
           "Wie gewünscht sende ich Ihnen im Anhang eine Kopie meines Personalausweises für die "
           "Akte {ref}.",
           "Wir haben Ihren Antrag unter der Referenz {ref} erhalten."),
}

# Auto-replies: (Exchange subject prefix, plain OOO subject prefix, body).
AUTO_REPLY_TEXTS = {
    "nl": ("Automatisch antwoord", "Afwezig",
           "Ik ben afwezig tot en met {day} en lees mijn e-mail niet. Voor dringende zaken kunt "
           "u terecht bij info@example.be."),
    "fr": ("Réponse automatique", "Absence",
           "Je suis absente du bureau jusqu'au {day} inclus et je ne lis pas mes e-mails. Pour "
           "toute urgence, écrivez à info@example.be."),
    "en": ("Automatic reply", "Out of Office",
           "I am out of the office until {day} and will not be reading e-mail. For urgent "
           "matters please write to info@example.be."),
    "de": ("Automatische Antwort", "Abwesenheitsnotiz",
           "Ich bin bis einschließlich {day} nicht im Büro und lese keine E-Mails. In dringenden "
           "Fällen schreiben Sie bitte an info@example.be."),
}
ACK_SUBJECTS = {
    "nl": "Ontvangstbevestiging", "fr": "Accusé de réception",
    "en": "Acknowledgement of receipt", "de": "Eingangsbestätigung",
}


# --- building blocks -----------------------------------------------------------------------

@dataclass
class _Draft:
    """What one generator decided; _render turns it into bytes."""

    rng: random.Random
    lang: str
    to: str
    sender: tuple[str, str]
    subject: str
    body: str
    date: datetime
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    html: bool = False
    attachments: Attachments = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    return_path: str | None = None
    alternatives: tuple[tuple[str, str, dict[str, str]], ...] = ()  # (subtype, text, params)


def _rng(seed: int | None) -> random.Random:
    return random.Random(seed) if seed is not None else random.Random()


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")


def person(lang: str = "nl", seed: int | None = None) -> tuple[str, str]:
    """A fictional (name, address) for a language."""
    rng = _rng(seed)
    return _person(rng, lang)


def _person(rng: random.Random, lang: str) -> tuple[str, str]:
    name = rng.choice(PEOPLE[lang])
    return name, f"{_slug(name)}@{rng.choice(PERSONAL_DOMAINS)}"


def _date(rng: random.Random, date: datetime | None) -> datetime:
    if date is not None:
        return date if date.tzinfo else date.replace(tzinfo=BRUSSELS)
    start = datetime(2026, 1, 5, 7, 0, tzinfo=BRUSSELS)
    return start + timedelta(days=rng.randrange(330), minutes=rng.randrange(12 * 60))


def _msgid(rng: random.Random, address: str) -> str:
    domain = address.rpartition("@")[2] or "example.org"
    return f"<{rng.getrandbits(64):016x}.{rng.getrandbits(24):06x}@{domain}>"


def _draft(rng: random.Random, lang: str, opts: MailOptions, *, subject: str, body: str,
           sender: tuple[str, str] | None = None, to: str = AGO) -> _Draft:
    """Common options applied on top of a generator's defaults."""
    who = opts.get("sender") or sender or _person(rng, lang)
    reply_to = opts.get("in_reply_to")
    return _Draft(
        rng=rng,
        lang=lang,
        to=opts.get("to") or to,
        sender=who,
        subject=opts.get("subject") or subject,
        body=body,
        date=_date(rng, opts.get("date")),
        message_id=opts.get("message_id") or _msgid(rng, who[1]),
        in_reply_to=reply_to,
        references=(reply_to,) if reply_to else (),
        html=opts.get("html", False),
        attachments=tuple(opts.get("attachments", ())),
        return_path=f"<{who[1]}>",
    )


def _text_part(msg: EmailMessage | MIMEPart, text: str, rng: random.Random,
               subtype: str = "plain") -> None:
    if text.isascii():
        msg.set_content(text, subtype=subtype, cte="7bit")
    else:  # vary the transfer encoding so tests exercise all decoders
        msg.set_content(text, subtype=subtype,
                        cte=rng.choice(("quoted-printable", "base64", "8bit")))


def _html_of(text: str) -> str:
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>"
                         for p in text.split("\n\n"))
    return f"<html><body>{paragraphs}</body></html>"


def _render(d: _Draft) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    if d.return_path is not None:
        msg["Return-Path"] = d.return_path
    msg["From"] = Address(display_name=d.sender[0], addr_spec=d.sender[1])
    msg["To"] = d.to
    msg["Subject"] = d.subject
    msg["Date"] = format_datetime(d.date)
    msg["Message-ID"] = d.message_id
    if d.in_reply_to:
        msg["In-Reply-To"] = d.in_reply_to
    if d.references:
        msg["References"] = " ".join(d.references)
    for name, value in d.extra_headers:
        msg[name] = value
    _text_part(msg, d.body, d.rng)
    if d.html:
        msg.add_alternative(_html_of(d.body), subtype="html")
    for subtype, text, params in d.alternatives:
        msg.add_alternative(text, subtype=subtype, cte="7bit", params=params)
    for filename, content_type, data in d.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=filename)
    return _serialise(msg, d.rng)


def _serialise(msg: EmailMessage, rng: random.Random) -> bytes:
    # The email package draws random boundaries; replace them so a seed gives identical bytes.
    for part in msg.walk():
        if part.is_multipart():
            part.set_boundary(f"=_dpo_{rng.getrandbits(64):016x}")
    return msg.as_bytes(policy=policy.SMTP)


def _letter(rng: random.Random, lang: str, paragraphs: Sequence[str], name: str) -> str:
    parts = [rng.choice(GREETINGS[lang]), *paragraphs]
    confirm = rng.choice(PLEASE_CONFIRM[lang])
    if confirm:
        parts.append(confirm)
    parts.append(f"{rng.choice(CLOSINGS[lang])}\n{name}")
    return "\n\n".join(parts)


def _human_day(day: datetime, lang: str) -> str:
    formats = {"nl": "%d/%m/%Y", "fr": "%d/%m/%Y", "de": "%d.%m.%Y"}
    return day.strftime(formats.get(lang, "%d %B %Y"))


# --- generators ----------------------------------------------------------------------------

def request(right: str | Sequence[str], lang: str = "nl", **opts: Unpack[MailOptions]) -> bytes:
    """A data-subject request exercising one right, or several (e.g. ("access", "erasure"))."""
    rights = (right,) if isinstance(right, str) else tuple(right)
    unknown = [r for r in rights if r not in PHRASES]
    if not rights or unknown:
        raise ValueError(f"unknown right(s): {unknown or rights}")
    rng = _rng(opts.get("seed"))
    who = opts.get("sender") or _person(rng, lang)
    paragraphs = []
    if rng.random() < 0.6:
        paragraphs.append(rng.choice(CONTEXTS[lang]))
    paragraphs.extend(rng.choice(PHRASES[r][lang]) for r in rights)
    if rng.random() < 0.25 or len(rights) > 1:
        subject = rng.choice(VAGUE_SUBJECTS[lang])
    else:
        subject = rng.choice(SUBJECTS[rights[0]][lang])
    body = _letter(rng, lang, paragraphs, who[0])
    return _render(_draft(rng, lang, opts, subject=subject, body=body, sender=who))


def question(lang: str = "nl", **opts: Unpack[MailOptions]) -> bytes:
    """A genuine question or suggestion for the DPO; no right is exercised."""
    rng = _rng(opts.get("seed"))
    who = opts.get("sender") or _person(rng, lang)
    subject, text = rng.choice(QUESTIONS[lang])
    body = _letter(rng, lang, [text], who[0])
    return _render(_draft(rng, lang, opts, subject=subject, body=body, sender=who))


def followup(to_reference: str, in_reply_to: str | None, lang: str = "nl",
             **opts: Unpack[MailOptions]) -> bytes:
    """A reply naming a case reference in its subject, quoting our acknowledgement."""
    rng = _rng(opts.get("seed"))
    who = opts.get("sender") or _person(rng, lang)
    subject_t, chase_t, id_copy_t, quoted_t = FOLLOWUP_TEXTS[lang]
    draft = _draft(rng, lang, {**opts, "in_reply_to": in_reply_to or opts.get("in_reply_to")},
                   subject=subject_t.format(ref=to_reference), body="", sender=who)
    text = (id_copy_t if draft.attachments else chase_t).format(ref=to_reference)
    quote = "\n".join(f"> {line}" for line in quoted_t.format(ref=to_reference).split("\n"))
    draft.body = f"{_letter(rng, lang, [text], who[0])}\n\n{quote}"
    return _render(draft)


def auto_reply(lang: str = "nl", kind: str = "ooo", *, reference: str | None = None,
               **opts: Unpack[MailOptions]) -> bytes:
    """An out-of-office answer to our acknowledgement of case `reference`; see AUTO_REPLY_KINDS."""
    if kind not in AUTO_REPLY_KINDS:
        raise ValueError(f"kind must be one of {AUTO_REPLY_KINDS}")
    rng = _rng(opts.get("seed"))
    exchange_prefix, ooo_prefix, body_t = AUTO_REPLY_TEXTS[lang]
    ref = reference or f"DPO-AGO-2026-{rng.randrange(1, 200):04d}"
    original = f"{ACK_SUBJECTS[lang]} {ref}"
    sep = " : " if lang == "fr" else ": "
    subject = {"ooo": f"{ooo_prefix}{sep}{original}",
               "exchange": f"{exchange_prefix}{sep}{original}"}.get(kind, f"Re: {original}")
    ack_id = f"<ack.{rng.getrandbits(48):012x}@vlaanderen.be>"
    draft = _draft(rng, lang, {"in_reply_to": ack_id, **opts}, subject=subject, body="")
    back = draft.date + timedelta(days=rng.randrange(3, 21))
    draft.body = f"{body_t.format(day=_human_day(back, lang))}\n\n{draft.sender[0]}"
    if kind == "auto_submitted":
        draft.extra_headers = (("Auto-Submitted", "auto-replied"),)
    elif kind == "x_autoreply":
        draft.extra_headers = (("X-Autoreply", "yes"),)
    elif kind == "exchange":
        draft.extra_headers = (
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-MS-Exchange-Inbox-Rules-Loop", draft.sender[1]),
            ("Thread-Topic", original),
        )
        draft.return_path = "<>"
    return _render(draft)


def bounce(original_to: str = "niet.bestaand@example.be", *, style: str = "postfix",
           **opts: Unpack[MailOptions]) -> bytes:
    """A delivery failure report (RFC 3464): multipart/report, null sender, MAILER-DAEMON."""
    rng = _rng(opts.get("seed"))
    to = opts.get("to") or AGO
    host = f"mx{rng.randrange(1, 9)}.example.be"
    if style == "exchange":
        sender = ("Microsoft Outlook", f"postmaster@{original_to.rpartition('@')[2]}")
        subject = f"Onbestelbaar: {ACK_SUBJECTS['nl']}"
        human = (f"Uw bericht aan {original_to} kan niet worden bezorgd.\n\n"
                 f"{original_to} bestaat niet bij het doeldomein.")
    else:
        sender = ("Mail Delivery System", f"MAILER-DAEMON@{host}")
        subject = "Undelivered Mail Returned to Sender"
        human = (f"This is the mail system at host {host}.\n\n"
                 "I'm sorry to have to inform you that your message could not\n"
                 "be delivered to one or more recipients.\n\n"
                 f"<{original_to}>: host {host} said: 550 5.1.1 User unknown")
    d = _draft(rng, "en", opts, subject=subject, body=human, sender=sender, to=to)
    original_id = d.in_reply_to or f"<ack.{rng.getrandbits(48):012x}@vlaanderen.be>"

    msg = EmailMessage(policy=policy.SMTP)
    msg["Return-Path"] = "<>"
    msg["From"] = Address(display_name=d.sender[0], addr_spec=d.sender[1])
    msg["To"] = d.to
    msg["Subject"] = d.subject
    msg["Date"] = format_datetime(d.date)
    msg["Message-ID"] = d.message_id
    msg["Auto-Submitted"] = "auto-replied"
    _text_part(msg, human, rng)
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")

    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = f"dns; {host}"
    per_message["Arrival-Date"] = format_datetime(d.date - timedelta(seconds=3))
    per_recipient["Final-Recipient"] = f"rfc822; {original_to}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Diagnostic-Code"] = "smtp; 550 5.1.1 User unknown"
    status = MIMEPart(policy=policy.SMTP)
    status.set_type("message/delivery-status")
    status.set_payload([per_message, per_recipient])
    msg.attach(status)

    headers = MIMEPart(policy=policy.SMTP)
    headers.set_content(
        f"From: {to}\r\nTo: {original_to}\r\nSubject: {ACK_SUBJECTS['nl']}\r\n"
        f"Message-ID: {original_id}\r\n", subtype="rfc822-headers", cte="7bit")
    msg.attach(headers)
    return _serialise(msg, rng)


def newsletter(**opts: Unpack[MailOptions]) -> bytes:
    """A mailing-list newsletter: List-Id, List-Unsubscribe, Precedence: bulk, HTML + text."""
    rng = _rng(opts.get("seed"))
    issue = rng.randrange(10, 99)
    body = (f"Nieuwsbrief nr. {issue}\n\n"
            "In deze editie: de nieuwe opleidingskalender, een terugblik op de studiedag over "
            "informatieveiligheid en tips om uw wachtwoorden beter te beheren.\n\n"
            "U ontvangt deze e-mail omdat u ingeschreven bent. Uitschrijven kan via de link "
            "onderaan.")
    d = _draft(rng, "nl", {"html": True, **opts},
               subject=f"Nieuwsbrief Voorbeeldstad nr. {issue}", body=body,
               sender=("Nieuwsbrief Voorbeeldstad", "nieuwsbrief@voorbeeldstad.example.be"))
    d.extra_headers = (
        ("List-Id", "Nieuwsbrief Voorbeeldstad <nieuws.voorbeeldstad.example.be>"),
        ("List-Unsubscribe", "<mailto:uitschrijven@voorbeeldstad.example.be>, "
                             "<https://voorbeeldstad.example.be/uitschrijven?id=123>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "bulk"),
    )
    d.return_path = "<bounces+123@mailer.example.org>"
    return _render(d)


def invoice(**opts: Unpack[MailOptions]) -> bytes:
    """A supplier's invoice with a PDF attachment: mail for staff, not a request."""
    rng = _rng(opts.get("seed"))
    number = f"2026/{rng.randrange(100, 9999):04d}"
    body = (f"Beste,\n\nIn bijlage vindt u factuur {number} voor het drukken van 500 brochures.\n"
            f"Gelieve het bedrag van EUR {rng.randrange(200, 3000)},00 te betalen binnen 30 dagen "
            "op rekening BE00 0000 0000 0000 (fictief).\n\nMet vriendelijke groeten,\n"
            "Boekhouding Drukkerij Voorbeeld")
    attachment = (f"factuur-{number.replace('/', '-')}.pdf", "application/pdf",
                  minimal_pdf(f"Factuur {number} (fictief)"))
    d = _draft(rng, "nl", {"attachments": (attachment,), **opts}, subject=f"Factuur {number}",
               body=body, sender=("Drukkerij Voorbeeld", "facturen@drukkerij.example.be"))
    return _render(d)


def meeting_invitation(**opts: Unpack[MailOptions]) -> bytes:
    """A calendar invitation (text/plain + text/calendar METHOD:REQUEST)."""
    rng = _rng(opts.get("seed"))
    d = _draft(rng, "nl", opts, subject="Uitnodiging: overleg verwerkingsregister",
               body="Hallo,\n\nGraag plan ik een overleg over de update van het "
                    "verwerkingsregister.\n\nTot dan,\nBart Vermeulen",
               sender=("Bart Vermeulen", "bart.vermeulen@example.be"))
    start = (d.date + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    stamp = "%Y%m%dT%H%M%S"
    ics = "\r\n".join((
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//Mailgen//NL", "METHOD:REQUEST",
        "BEGIN:VEVENT", f"UID:{rng.getrandbits(64):016x}@example.be",
        f"DTSTAMP:{d.date.astimezone(ZoneInfo('UTC')).strftime(stamp)}Z",
        f"DTSTART;TZID=Europe/Brussels:{start.strftime(stamp)}",
        f"DTEND;TZID=Europe/Brussels:{(start + timedelta(hours=1)).strftime(stamp)}",
        "SUMMARY:Overleg verwerkingsregister",
        f"ORGANIZER;CN=Bart Vermeulen:mailto:{d.sender[1]}",
        f"ATTENDEE;RSVP=TRUE:mailto:{d.to}", "END:VEVENT", "END:VCALENDAR", "",
    ))
    d.alternatives = (("calendar", ics, {"method": "REQUEST"}),)
    return _render(d)


def spam(lang: str = "en", **opts: Unpack[MailOptions]) -> bytes:
    """Unsolicited advertising (HTML), from a fictional domain."""
    rng = _rng(opts.get("seed"))
    texts = {
        "en": ("Congratulations! You have been selected",
               "Dear customer,\n\nYou have been selected for an exclusive prize. Claim it today "
               "at http://winners.example.org/claim before the offer expires!"),
        "nl": ("Proficiat! U bent geselecteerd",
               "Beste klant,\n\nU bent geselecteerd voor een exclusieve prijs. Claim hem vandaag "
               "nog via http://winners.example.org/claim voor de actie afloopt!"),
    }
    subject, body = texts.get(lang, texts["en"])
    d = _draft(rng, lang, {"html": True, **opts}, subject=subject, body=body,
               sender=("Lucky Winner Team", f"promo{rng.randrange(100, 999)}@winners.example.org"))
    return _render(d)


def broken_mime(variant: str = "missing_boundary", **opts: Unpack[MailOptions]) -> bytes:
    """Hand-made malformed MIME, one of BROKEN_VARIANTS; a person wrote it (an access request)."""
    if variant not in BROKEN_VARIANTS:
        raise ValueError(f"variant must be one of {BROKEN_VARIANTS}")
    rng = _rng(opts.get("seed"))
    d = _draft(rng, "nl", opts, subject="Inzage gevraagd",
               body=rng.choice(PHRASES["access"]["nl"]))
    head = (f"From: {d.sender[0]} <{d.sender[1]}>\r\nTo: {d.to}\r\nSubject: {d.subject}\r\n"
            f"Date: {format_datetime(d.date)}\r\nMessage-ID: {d.message_id}\r\n"
            "MIME-Version: 1.0\r\n")
    body = d.body.encode("utf-8")
    if variant == "missing_boundary":
        return (head.encode() + b"Content-Type: multipart/mixed\r\n\r\n"
                b"--nowhere\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                + body + b"\r\n--nowhere--\r\n")
    if variant == "undeclared_8bit":  # Latin-1 bytes, no charset, no transfer encoding
        latin = (d.body + " Dank u, café-eigenaar uit Liège.").encode("latin-1", "replace")
        return head.encode() + b"Content-Type: text/plain\r\n\r\n" + latin + b"\r\n"
    return (head.encode() + b"Content-Type: text/plain; charset=\"utf-99-bogus\"\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n")


def backlog(n: int, seed: int = 0) -> Iterator[bytes]:
    """n varied messages, mostly requests, text only (no HTML, no attachments)."""
    rng = random.Random(seed)
    kinds = ("request", "multi", "question", "followup", "auto_reply", "bounce", "newsletter",
             "spam")
    weights = (62, 8, 10, 7, 5, 3, 3, 2)
    langs, lang_weights = LANGUAGES, (55, 20, 15, 10)
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        lang = rng.choices(langs, lang_weights)[0]
        to = rng.choice((AGO, WSE))
        sub_seed = rng.getrandbits(32)
        if kind == "request":
            yield request(rng.choice(RIGHTS), lang, to=to, seed=sub_seed)
        elif kind == "multi":
            yield request(rng.sample(RIGHTS, 2), lang, to=to, seed=sub_seed)
        elif kind == "question":
            yield question(lang, to=to, seed=sub_seed)
        elif kind == "followup":
            prefix = "DPO-AGO" if to == AGO else "DPO-WSE"
            ref = f"{prefix}-2026-{rng.randrange(1, 500):04d}"
            yield followup(ref, None, lang, to=to, seed=sub_seed)
        elif kind == "auto_reply":
            yield auto_reply(lang, rng.choice(AUTO_REPLY_KINDS), to=to, seed=sub_seed)
        elif kind == "bounce":
            yield bounce(to=to, seed=sub_seed)
        elif kind == "newsletter":
            yield newsletter(to=to, html=False, seed=sub_seed)
        else:
            yield spam(rng.choice(("en", "nl")), to=to, html=False, seed=sub_seed)


def pdf_file(objects: Sequence[bytes]) -> bytes:
    """A PDF file of numbered objects (object 1 the catalog) with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def minimal_pdf(text: str) -> bytes:
    """A small valid one-page PDF showing one line of ASCII text."""
    safe = re.sub(r"[^A-Za-z0-9 .,/:-]", "?", text)
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)


# --- replies, forwards and attached letters (for the requester-text tests) ----------------

QUOTE_STYLES = ("gmail", "gmail_wrapped", "apple", "thunderbird", "outlook", "original")
FORWARD_STYLES = ("gmail", "apple", "thunderbird", "outlook", "attached")
_WEEKDAYS = {
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
}
_MONTHS = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
           "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.",
           "Nov.", "Dez."),
}
# Outlook header keys: from, sent, to, subject (French Outlook writes a space before ":").
_HEADER_KEYS = {
    "nl": ("Van:", "Verzonden:", "Aan:", "Onderwerp:"),
    "fr": ("De :", "Envoyé :", "À :", "Objet :"),
    "en": ("From:", "Sent:", "To:", "Subject:"),
    "de": ("Von:", "Gesendet:", "An:", "Betreff:"),
}
_ORIGINAL_SEPARATORS = {
    "nl": "-----Oorspronkelijk bericht-----", "fr": "-----Message d'origine-----",
    "en": "-----Original Message-----", "de": "-----Ursprüngliche Nachricht-----",
}
_FORWARD_MARKERS = {  # (Gmail / Thunderbird title, Apple Mail line)
    "nl": ("Doorgestuurd bericht", "Begin doorgestuurd bericht:"),
    "fr": ("Message transféré", "Début du message réexpédié :"),
    "en": ("Forwarded message", "Begin forwarded message:"),
    "de": ("Weitergeleitete Nachricht", "Anfang der weitergeleiteten Nachricht:"),
}
_FORWARD_PREFIXES = {"nl": "Doorst:", "fr": "TR:", "en": "FW:", "de": "WG:"}


def quote_header(style: str, lang: str, who: tuple[str, str], when: datetime,
                 to: str = AGO, subject: str = "") -> str:
    """The line(s) a mail client writes above quoted text; `style` is one of QUOTE_STYLES."""
    name, address = who
    wd, mon = _WEEKDAYS[lang][when.weekday()], _MONTHS[lang][when.month - 1]
    hm = when.strftime("%H:%M")
    if style in ("gmail", "gmail_wrapped"):
        line = {
            "nl": f"Op {wd} {when.day} {mon} {when.year} om {hm} schreef {name} <{address}>:",
            "fr": f"Le {wd} {when.day} {mon} {when.year} à {hm}, {name} <{address}> a écrit :",
            "en": f"On {wd}, {when.day} {mon} {when.year} at {hm}, {name} <{address}> wrote:",
            "de": f"Am {wd}, {when.day}. {mon} {when.year} um {hm} Uhr schrieb {name} "
                  f"<{address}>:",
        }[lang]
        return line.replace(" <", " <\n", 1) if style == "gmail_wrapped" else line
    if style == "apple":
        return {
            "nl": f"Op {when.day} {mon}. {when.year}, om {hm} heeft {name} <{address}> het "
                  "volgende geschreven:",
            "fr": f"Le {when.day} {mon} {when.year} à {hm}, {name} <{address}> a écrit :",
            "en": f"On {when.day} {mon} {when.year}, at {hm}, {name} <{address}> wrote:",
            "de": f"Am {when.strftime('%d.%m.%Y')} um {hm} schrieb {name} <{address}>:",
        }[lang]
    if style == "thunderbird":
        return {
            "nl": f"Op {when.strftime('%d-%m-%Y')} om {hm} schreef {name}:",
            "fr": f"Le {when.strftime('%d/%m/%Y')} à {hm}, {name} a écrit :",
            "en": f"On {when.strftime('%d/%m/%Y')} {hm}, {name} wrote:",
            "de": f"Am {when.strftime('%d.%m.%Y')} um {hm} schrieb {name}:",
        }[lang]
    if style not in ("outlook", "original"):
        raise ValueError(f"style must be one of {QUOTE_STYLES}")
    k_from, k_sent, k_to, k_subject = _HEADER_KEYS[lang]
    block = (f"{k_from} {name} <{address}>\n{k_sent} {_human_day(when, lang)} {hm}\n"
             f"{k_to} {to}\n{k_subject} {subject}")
    top = "_" * 32 if style == "outlook" else _ORIGINAL_SEPARATORS[lang]
    return f"{top}\n{block}"


def reply(own_text: str, quoted_text: str, lang: str = "nl", style: str = "gmail",
          **opts: Unpack[MailOptions]) -> bytes:
    """A reply: `own_text` on top, then a quote header in `style` and `quoted_text` below it."""
    rng = _rng(opts.get("seed"))
    quoted_who = ("DPO AgO", AGO)
    d = _draft(rng, lang, {"in_reply_to": _msgid(rng, AGO), **opts},
               subject="Re: " + rng.choice(VAGUE_SUBJECTS[lang]), body="")
    header = quote_header(style, lang, quoted_who, d.date - timedelta(days=2), d.sender[1],
                          d.subject[4:])
    if style in ("outlook", "original"):
        quoted = quoted_text
    else:
        quoted = "\n".join(f"> {line}".rstrip() for line in quoted_text.split("\n"))
    d.body = f"{own_text}\n\n{header}\n\n{quoted}\n"
    return _render(d)


def forward(inner_text: str, lang: str = "nl", style: str = "gmail", note: str = "",
            **opts: Unpack[MailOptions]) -> bytes:
    """A colleague forwarding a requester's mail (`inner_text`) to the DPO, with an optional
    note on top; `style` is one of FORWARD_STYLES ("attached" = a message/rfc822 part)."""
    if style not in FORWARD_STYLES:
        raise ValueError(f"style must be one of {FORWARD_STYLES}")
    rng = _rng(opts.get("seed"))
    requester = _person(rng, lang)
    inner_subject = rng.choice(VAGUE_SUBJECTS[lang])
    colleague = ("Bart Vermeulen", "bart.vermeulen@vlaanderen.be")
    prefix = {"gmail": "Fwd:", "apple": "Fwd:", "thunderbird": "Fwd:"}.get(
        style, _FORWARD_PREFIXES[lang])
    d = _draft(rng, lang, opts, subject=f"{prefix} {inner_subject}", body="", sender=colleague)
    sent = d.date - timedelta(hours=rng.randrange(1, 48))
    k_from, k_sent, k_to, k_subject = _HEADER_KEYS[lang]
    headers = (f"{k_from} {requester[0]} <{requester[1]}>\n{k_sent} {_human_day(sent, lang)} "
               f"{sent.strftime('%H:%M')}\n{k_subject} {inner_subject}\n"
               f"{k_to} info@vlaanderen.be")
    title, apple = _FORWARD_MARKERS[lang]
    if style == "attached":
        inner = EmailMessage(policy=policy.SMTP)
        inner["From"] = Address(display_name=requester[0], addr_spec=requester[1])
        inner["To"] = "info@vlaanderen.be"
        inner["Subject"] = inner_subject
        inner["Date"] = format_datetime(sent)
        inner["Message-ID"] = _msgid(rng, requester[1])
        _text_part(inner, inner_text, rng)
        d.body = note or " "
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"] = Address(display_name=colleague[0], addr_spec=colleague[1])
        msg["To"] = d.to
        msg["Subject"] = d.subject
        msg["Date"] = format_datetime(d.date)
        msg["Message-ID"] = d.message_id
        _text_part(msg, d.body, rng)
        msg.add_attachment(inner)
        return _serialise(msg, rng)
    marker = {
        "gmail": f"---------- {title} ---------",
        "thunderbird": f"-------- {title} --------",
        "apple": apple,
        "outlook": "_" * 32,
    }[style]
    d.body = f"{note}\n\n{marker}\n{headers}\n\n{inner_text}\n".lstrip()
    return _render(d)


def outlook_html(text: str, lang: str = "nl", quoted: str | None = None,
                 **opts: Unpack[MailOptions]) -> bytes:
    """An HTML-only mail as Outlook writes it (MsoNormal paragraphs, conditional comments),
    optionally a reply above a quoted Outlook header block and `quoted` text."""
    rng = _rng(opts.get("seed"))
    d = _draft(rng, lang, opts, subject=rng.choice(VAGUE_SUBJECTS[lang]), body="")

    def paragraphs(body: str) -> str:
        blank = "<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
        return blank.join(
            "".join(f"<p class=MsoNormal>{escape(line)}<o:p></o:p></p>\n"
                    for line in block.split("\n"))
            for block in body.split("\n\n"))

    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv=Content-Type content="text/html; charset=utf-8">'
        "<style><!--\n@font-face {font-family:Calibri;}\np.MsoNormal, li.MsoNormal "
        "{margin:0cm; font-size:11.0pt;}\n--></style><!--[if gte mso 9]><xml>"
        '<o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--></head>'
        '<body lang=NL-BE link="#0563C1"><div class=WordSection1>\n' + paragraphs(text))
    if quoted is not None:
        k_from, k_sent, k_to, k_subject = (k.rstrip(" :") for k in _HEADER_KEYS[lang])
        sent = d.date - timedelta(days=1)
        html += (
            "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm "
            f"0cm'><p class=MsoNormal><b>{k_from}:</b> DPO AgO &lt;{AGO}&gt; <br><b>{k_sent}:"
            f"</b> {_human_day(sent, lang)} {sent.strftime('%H:%M')}<br><b>{k_to}:</b> "
            f"{escape(d.sender[0])}<br><b>{k_subject}:</b> {escape(d.subject)}<o:p></o:p></p>"
            "</div></div>\n" + paragraphs(quoted))
    html += "</div></body></html>"
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=d.sender[0], addr_spec=d.sender[1])
    msg["To"] = d.to
    msg["Subject"] = d.subject
    msg["Date"] = format_datetime(d.date)
    msg["Message-ID"] = d.message_id
    msg.set_content(html, subtype="html", cte="quoted-printable")
    for filename, content_type, data in d.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return _serialise(msg, rng)


def plain_note(body: str, lang: str = "nl", **opts: Unpack[MailOptions]) -> bytes:
    """A plain message with exactly `body` (e.g. "Zie bijlage.") and any attachments."""
    rng = _rng(opts.get("seed"))
    return _render(_draft(rng, lang, opts, subject=rng.choice(VAGUE_SUBJECTS[lang]), body=body))


def letter_pdf(text: str) -> bytes:
    """A text-layer PDF letter: `text` in Helvetica (Latin-1 accents kept), wrapped, one page
    per 50 lines."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(), ""
        for word in words:
            if line and len(line) + len(word) > 85:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    pages = [lines[i:i + 50] for i in range(0, len(lines), 50)] or [[]]
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for page in pages:
        ops = [b"BT /F1 11 Tf 14 TL 60 780 Td"]
        for line in page:
            safe = (line.encode("cp1252", "replace").replace(b"\\", b"\\\\")
                    .replace(b"(", b"\\(").replace(b")", b"\\)"))
            ops.append(b"(" + safe + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    return pdf_file(objects)


def scanned_pdf(text: str) -> bytes:
    """An image-only PDF (a scan: no text layer) showing `text` (Pillow, DejaVu when present)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    try:
        font: Any = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
    except OSError:
        font = ImageFont.load_default()
    y = 120
    for line in text.split("\n"):
        draw.text((100, y), line, fill=0, font=font)
        y += 40
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=150)
    return buffer.getvalue()


def letter_docx(text: str) -> bytes:
    """A Word (.docx) letter with one paragraph per line of `text` (python-docx)."""
    import io

    from docx import Document

    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- the demo mailbox ----------------------------------------------------------------------

def _at(day: int, month: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BRUSSELS)


def demo_messages() -> list[tuple[str, datetime, bytes]]:
    """The demo mailbox: (controller key, receipt time, bytes), fixed dates in 2026."""
    jan = ("Jan Peeters", "jan.peeters@example.be")
    first_ago_id = "<demo-0001.jan.peeters@example.be>"
    items: list[tuple[str, datetime, dict[str, Any], Callable[..., bytes]]] = [
        # AgO
        ("ago", _at(2, 3, 9, 14), {"sender": jan, "message_id": first_ago_id},
         lambda **kw: request("access", "nl", **kw)),
        ("ago", _at(3, 3, 14, 2), {"sender": ("Marie Dubois", "marie.dubois@example.org")},
         lambda **kw: request("erasure", "fr", **kw)),
        ("ago", _at(4, 3, 10, 45), {"sender": ("Emily Clarke", "emily.clarke@example.org")},
         lambda **kw: request("objection", "en", **kw)),
        ("ago", _at(5, 3, 16, 30), {"sender": ("Sofie Maes", "sofie.maes@example.be")},
         lambda **kw: request("withdraw_consent", "nl", **kw)),
        ("ago", _at(6, 3, 8, 5), {"sender": ("Koen Jacobs", "koen.jacobs@example.be")},
         lambda **kw: request(("access", "erasure"), "nl", **kw)),
        ("ago", _at(9, 3, 11, 20), {"sender": jan},
         lambda **kw: followup("DPO-AGO-2026-0001", first_ago_id, "nl", **kw)),
        ("ago", _at(5, 3, 16, 32), {"sender": ("Sofie Maes", "sofie.maes@example.be")},
         lambda **kw: auto_reply("nl", "exchange", reference="DPO-AGO-2026-0004", **kw)),
        ("ago", _at(10, 3, 6, 0), {}, lambda **kw: newsletter(**kw)),
        # DWSE
        ("wse", _at(2, 3, 13, 40), {"sender": ("Pieter De Smet", "pieter.desmet@example.be")},
         lambda **kw: request("rectification", "nl", **kw)),
        ("wse", _at(3, 3, 9, 55), {"sender": ("James Walker", "james.walker@example.org")},
         lambda **kw: request("access", "en", **kw)),
        ("wse", _at(4, 3, 15, 10), {"sender": ("Anna Schmidt", "anna.schmidt@example.org")},
         lambda **kw: request("portability", "de", **kw)),
        ("wse", _at(5, 3, 12, 0), {"sender": ("Luc Lambert", "luc.lambert@example.be")},
         lambda **kw: request("restriction", "fr", **kw)),
        ("wse", _at(6, 3, 10, 30), {"sender": ("Els Janssens", "els.janssens@example.be")},
         lambda **kw: question("nl", **kw)),
        ("wse", _at(6, 3, 10, 31), {}, lambda **kw: bounce("oud.adres@example.be", **kw)),
        ("wse", _at(9, 3, 8, 45), {}, lambda **kw: invoice(**kw)),
        # An erasure request with a photo of the (fictional) ID card: proof, so no suspension.
        ("wse", _at(10, 3, 9, 12), _with_id_card(seed=7),
         lambda **kw: request("erasure", "nl", **kw)),
    ]
    out = []
    for index, (key, when, extra, make) in enumerate(items, start=1):
        raw = make(to=CONTROLLERS[key], date=when, seed=1000 + index, **extra)
        out.append((key, when, raw))
    return out


def _with_id_card(seed: int) -> dict[str, Any]:
    """Sender and attachments of a message from a fictional person with a photo of their eID."""
    from tests.idgen import eid_back, encode, make_person, on_table

    person = make_person(seed)
    address = f"{_slug(person.given)}.{_slug(person.surname)}@example.be"
    photo = encode(on_table(eid_back(person, seed=seed), seed=seed, skew=2.0))
    return {"sender": (person.display_name, address),
            "attachments": [("identiteitskaart.jpg", "image/jpeg", photo)]}


def write_maildir(root: Path) -> list[Path]:
    """Write the demo mailbox as one Maildir per controller under root; returns the files."""
    written = []
    for key in CONTROLLERS:
        for sub in ("cur", "new", "tmp"):
            folder = root / key / sub
            folder.mkdir(parents=True, exist_ok=True)
            if sub != "new":  # new/ holds the messages; the empty folders need a file for git
                (folder / ".gitkeep").touch()
            for old in folder.glob(f"*.{DEMO_SUFFIX}*"):  # only what an earlier run wrote
                old.unlink()
    for index, (key, when, raw) in enumerate(demo_messages(), start=1):
        # Maildir name: time.unique.host; the time is the receipt time, so names sort by arrival.
        path = root / key / "new" / f"{int(when.timestamp())}.M{index:03d}.{DEMO_SUFFIX}"
        path.write_bytes(raw)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mailgen",
                                     description="Write fictional e-mails.")
    commands = parser.add_subparsers(dest="command", required=True)
    maildir = commands.add_parser("maildir", help="write the demo mailbox (one Maildir per key)")
    maildir.add_argument("directory", type=Path)
    backlog_cmd = commands.add_parser("backlog", help="write N varied .eml files")
    backlog_cmd.add_argument("directory", type=Path)
    backlog_cmd.add_argument("-n", type=int, default=100)
    backlog_cmd.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "maildir":
        files = write_maildir(args.directory)
    else:
        args.directory.mkdir(parents=True, exist_ok=True)
        files = []
        for index, raw in enumerate(backlog(args.n, args.seed), start=1):
            path = args.directory / f"backlog-{index:05d}.eml"
            path.write_bytes(raw)
            files.append(path)
    print(f"wrote {len(files)} messages under {args.directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
