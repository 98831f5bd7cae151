"""The console's words per language (nl first, fr, en) and dates written out ("7 april 2026")."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from intake.outbound.render import format_long_date
from intake.outbound.stafftemplates import staff_words
from intake.store.timezone import BRUSSELS

LANGUAGES = ("nl", "fr", "en")

_NL = {
    "app": "DPO Intake",
    "skip": "Naar de inhoud",
    "nav": "Hoofdmenu",
    "worklist": "Werkvoorraad",
    "listed": "Gelijste mail",
    "new_case": "Nieuw dossier",
    "register": "Register",
    "digest": "Overzicht",
    "settings": "Instellingen",
    "sign_in": "Aanmelden",
    "sign_out": "Afmelden",
    "signed_in_as": "Aangemeld als {name} ({role})",
    "language": "Taal",
    "demo_banner": "Demo: lokale aanmelding zonder wachtwoord, alleen op 127.0.0.1. "
                   "Niet voor echte gegevens.",
    "roles": {"viewer": "lezer", "handler": "behandelaar", "admin": "beheerder"},
    "buckets": {
        "to_classify": "Te classificeren", "overdue": "Over tijd",
        "due_soon": "Vervalt binnen {days} dagen", "extension": "Verlenging te beslissen",
        "identity": "Wacht op identiteitsbewijs", "review": "Na te kijken", "other": "Overige open",
    },
    "col": {"reference": "Referentie", "requester": "Aanvrager", "rights": "Rechten",
            "received": "Ontvangen", "due": "Vervaldag", "left": "Dagen over",
            "mailbox": "Mailbox", "status": "Status", "assignee": "Behandelaar",
            "reason": "Reden", "subject": "Onderwerp", "from": "Van", "kind": "Soort",
            "outcome": "Uitkomst", "extended": "Verlengd", "on_time": "Op tijd",
            "closed": "Afgesloten", "controller": "Verwerkingsverantwoordelijke"},
    "filters": "Filters", "search": "Zoeken (referentie of aanvrager)", "apply": "Toepassen",
    "any": "Alle", "due_before": "Vervalt vóór", "needs_review": "Alleen na te kijken",
    "no_cases": "Geen dossiers.", "open_cases": "{n} open dossiers",
    "shown": "{shown} van {total} getoond", "next_page": "Volgende pagina",
    "prev_page": "Vorige pagina",
    "statuses": {"open": "open", "awaiting_identity": "wacht op identiteit",
                 "closed": "afgesloten", "to_classify": "te classificeren"},
    "kinds": {"request": "verzoek", "question": "vraag", "to_classify": "te classificeren"},
    "rights": {"access": "inzage", "rectification": "verbetering", "erasure": "wissing",
               "restriction": "beperking", "portability": "overdraagbaarheid",
               "objection": "bezwaar", "automated_decision": "geautomatiseerde besluitvorming"},
    "outcomes": {"answered": "beantwoord", "refused": "geweigerd", "withdrawn": "ingetrokken",
                 "forwarded": "doorgestuurd"},
    "question": "vraag", "suspended": "opgeschort", "yes": "ja", "no": "nee",
    "case": "Dossier {ref}", "summary": "Samenvatting", "clock": "Termijn",
    "clock_received": "Ontvangen op {date}", "clock_due": "Uiterlijk te beantwoorden op {date}",
    "clock_target": "Geen wettelijke termijn (vraag); streefdatum {date}",
    "clock_suspended": "Opgeschort sinds {date}, wacht op identiteitsbewijs ({n} dagen over)",
    "clock_suspension": "Opgeschort van {start} tot {end}", "now": "nu",
    "clock_extended": "Verlengd op {date} door {who}: {reason}",
    "clock_closed": "Afgesloten op {date} ({outcome})", "late": "te laat", "in_time": "op tijd",
    "timeline": "Tijdlijn", "messages": "Berichten", "replies": "Antwoorden",
    "identity": "Identiteit", "evidence": "Bewijs", "attachments": "Bijlagen",
    "body_hidden": "De inhoud van berichten is alleen zichtbaar voor behandelaars.",
    "body": "Inhoud", "no_messages": "Geen berichten.", "no_replies": "Geen antwoorden.",
    "actions": "Acties", "assign": "Toewijzen", "person": "Persoon",
    "note": "Notitie", "add_note": "Notitie toevoegen", "text": "Tekst",
    "reclassify": "Herclassificeren", "rights_none": "Geen rechten: een vraag",
    "reason_opt": "Reden (optioneel)", "reason_req": "Reden (verplicht)",
    "identity_confirmed": "Identiteit bevestigd", "how_received": "Hoe het bewijs kwam",
    "on_date": "Op datum", "proof_kind": "Soort bewijs",
    "proofs": {"id_copy": "kopie identiteitskaart", "verified_signature": "geldige handtekening"},
    "extend": "Verlengen met twee maanden", "extend_reasons": "Redenen (worden naar de aanvrager "
              "gestuurd)",
    "close": "Afsluiten", "outcome": "Uitkomst", "reopen": "Heropenen",
    "save": "Opslaan", "done": "Gedaan: {what}",
    "refused": "Niet toegestaan: {why}",
    "listed_intro": "Mail die is vastgelegd zonder dossier (lijst, robots), met de reden.",
    "open_case": "Dossier openen", "no_listed": "Geen gelijste mail.",
    "new_intro": "Een verzoek dat per post, telefonisch of aan het loket binnenkwam.",
    "channel": "Kanaal", "channels": {"post": "post", "phone": "telefoon", "counter": "loket"},
    "requester_name": "Naam van de aanvrager", "requester_address": "E-mailadres (optioneel)",
    "received_on": "Ontvangen op", "kind": "Soort dossier", "description": "Korte omschrijving",
    "scan": "Gescande brief of kopie identiteitsbewijs (optioneel; wordt niet bewaard)",
    "acknowledge": "Ontvangstbevestiging per e-mail sturen", "create": "Dossier aanmaken",
    "register_intro": "Register van verzoeken (art. 5, lid 2 AVG): geen persoonsgegevens.",
    "download_csv": "Download als CSV", "from": "Van", "to": "Tot",
    "digest_intro": "Het overzicht zoals het personeel het per mail krijgt.",
    "settings_intro": "De actieve instellingen (geen geheimen).",
    "error": "Fout", "forbidden": "Geen toegang", "not_found": "Niet gevonden",
    "forbidden_text": "U heeft geen toegang tot deze pagina of dit dossier.",
    "not_found_text": "Deze pagina of dit dossier bestaat niet.",
    "csrf_text": "Het formulier is verlopen of niet van deze site. Laad de pagina opnieuw.",
    "server_error_text": "Er ging iets mis. De fout is gelogd; probeer het later opnieuw.",
    "unavailable": "Deze handeling is in deze versie nog niet beschikbaar ({what}).",
    "invalid": "Controleer het formulier: {why}",
    "login_title": "Aanmelden", "login_intro": "Meld u aan met uw account van de organisatie.",
    "demo_login": "Demo-aanmelding", "demo_user": "Testgebruiker",
    "back": "Terug naar de werkvoorraad",
    "reports": {
        "assigned": "toegewezen aan {who}", "note": "notitie toegevoegd",
        "reclassified": "rechten nu: {rights}",
        "identity_noted": "identiteitsbewijs genoteerd; de termijn wachtte er niet op",
        "identity_resumed": "de termijn loopt weer, uiterlijk {due}; bevestiging klaargezet "
                            "voor de aanvrager",
        "extended": "verlengd met twee maanden, nieuwe vervaldag {due}; bericht aan de "
                    "aanvrager klaargezet",
        "closed": "afgesloten ({outcome}) op {date}", "reopened": "heropend",
        "after_identity": "na ontvangst van het identiteitsbewijs",
    },
}

_FR = {**_NL, **{
    "skip": "Aller au contenu", "nav": "Menu principal", "worklist": "Dossiers à traiter",
    "listed": "Courrier listé", "new_case": "Nouveau dossier", "register": "Registre",
    "digest": "Résumé", "settings": "Paramètres", "sign_in": "Se connecter",
    "sign_out": "Se déconnecter", "signed_in_as": "Connecté: {name} ({role})",
    "language": "Langue",
    "demo_banner": "Démo: connexion locale sans mot de passe, uniquement sur 127.0.0.1. "
                   "Pas pour des données réelles.",
    "roles": {"viewer": "lecteur", "handler": "gestionnaire", "admin": "administrateur"},
    "buckets": {
        "to_classify": "À classer", "overdue": "En retard",
        "due_soon": "Échéance dans {days} jours", "extension": "Prolongation à décider",
        "identity": "En attente d'une preuve d'identité", "review": "À vérifier",
        "other": "Autres dossiers ouverts",
    },
    "col": {"reference": "Référence", "requester": "Demandeur", "rights": "Droits",
            "received": "Reçu", "due": "Échéance", "left": "Jours restants",
            "mailbox": "Boîte", "status": "Statut", "assignee": "Gestionnaire",
            "reason": "Raison", "subject": "Objet", "from": "De", "kind": "Type",
            "outcome": "Issue", "extended": "Prolongé", "on_time": "Dans les délais",
            "closed": "Clôturé", "controller": "Responsable du traitement"},
    "filters": "Filtres", "search": "Rechercher (référence ou demandeur)", "apply": "Appliquer",
    "any": "Tous", "due_before": "Échéance avant", "needs_review": "Seulement à vérifier",
    "no_cases": "Aucun dossier.", "open_cases": "{n} dossiers ouverts",
    "shown": "{shown} sur {total} affichés", "next_page": "Page suivante",
    "prev_page": "Page précédente",
    "statuses": {"open": "ouvert", "awaiting_identity": "attend l'identité",
                 "closed": "clôturé", "to_classify": "à classer"},
    "kinds": {"request": "demande", "question": "question", "to_classify": "à classer"},
    "rights": {"access": "accès", "rectification": "rectification", "erasure": "effacement",
               "restriction": "limitation", "portability": "portabilité",
               "objection": "opposition", "automated_decision": "décision automatisée"},
    "outcomes": {"answered": "répondu", "refused": "refusé", "withdrawn": "retiré",
                 "forwarded": "transmis"},
    "question": "question", "suspended": "suspendu", "yes": "oui", "no": "non",
    "case": "Dossier {ref}", "summary": "Résumé", "clock": "Délai",
    "clock_received": "Reçu le {date}", "clock_due": "Réponse au plus tard le {date}",
    "clock_target": "Pas de délai légal (question); objectif {date}",
    "clock_suspended": "Suspendu depuis le {date}, attend une preuve d'identité "
                       "({n} jours restants)",
    "clock_suspension": "Suspendu du {start} au {end}", "now": "maintenant",
    "clock_extended": "Prolongé le {date} par {who}: {reason}",
    "clock_closed": "Clôturé le {date} ({outcome})", "late": "en retard",
    "in_time": "dans les délais", "timeline": "Historique", "messages": "Messages",
    "replies": "Réponses", "identity": "Identité", "evidence": "Preuve",
    "attachments": "Pièces jointes",
    "body_hidden": "Le contenu des messages n'est visible que pour les gestionnaires.",
    "body": "Contenu", "no_messages": "Aucun message.", "no_replies": "Aucune réponse.",
    "actions": "Actions", "assign": "Attribuer", "person": "Personne", "note": "Note",
    "add_note": "Ajouter une note", "text": "Texte", "reclassify": "Reclasser",
    "rights_none": "Aucun droit: une question", "reason_opt": "Raison (facultative)",
    "reason_req": "Raison (obligatoire)", "identity_confirmed": "Identité confirmée",
    "how_received": "Comment la preuve est arrivée", "on_date": "Date",
    "proof_kind": "Type de preuve",
    "proofs": {"id_copy": "copie de la carte d'identité",
               "verified_signature": "signature valide"},
    "extend": "Prolonger de deux mois",
    "extend_reasons": "Raisons (envoyées au demandeur)", "close": "Clôturer",
    "outcome": "Issue", "reopen": "Rouvrir", "save": "Enregistrer", "done": "Fait: {what}",
    "refused": "Refusé: {why}",
    "listed_intro": "Courrier enregistré sans dossier (liste, robots), avec la raison.",
    "open_case": "Ouvrir un dossier", "no_listed": "Aucun courrier listé.",
    "new_intro": "Une demande arrivée par courrier, par téléphone ou au guichet.",
    "channel": "Canal", "channels": {"post": "courrier", "phone": "téléphone",
                                     "counter": "guichet"},
    "requester_name": "Nom du demandeur", "requester_address": "Adresse e-mail (facultative)",
    "received_on": "Reçu le", "kind": "Type de dossier", "description": "Brève description",
    "scan": "Lettre scannée ou copie d'identité (facultative; non conservée)",
    "acknowledge": "Envoyer un accusé de réception par e-mail", "create": "Créer le dossier",
    "register_intro": "Registre des demandes (art. 5, §2 RGPD): sans données personnelles.",
    "download_csv": "Télécharger en CSV", "from": "Du", "to": "Au",
    "digest_intro": "Le résumé tel que le personnel le reçoit par e-mail.",
    "settings_intro": "Les paramètres actifs (sans secrets).",
    "error": "Erreur", "forbidden": "Accès refusé", "not_found": "Introuvable",
    "forbidden_text": "Vous n'avez pas accès à cette page ou à ce dossier.",
    "not_found_text": "Cette page ou ce dossier n'existe pas.",
    "csrf_text": "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page.",
    "server_error_text": "Une erreur s'est produite. Elle a été enregistrée; réessayez plus tard.",
    "unavailable": "Cette action n'est pas encore disponible dans cette version ({what}).",
    "invalid": "Vérifiez le formulaire: {why}",
    "login_title": "Connexion", "login_intro": "Connectez-vous avec le compte de l'organisation.",
    "demo_login": "Connexion de démo", "demo_user": "Utilisateur de test",
    "back": "Retour aux dossiers à traiter",
    "reports": {
        "assigned": "attribué à {who}", "note": "note ajoutée",
        "reclassified": "droits: {rights}",
        "identity_noted": "preuve d'identité notée; le délai ne l'attendait pas",
        "identity_resumed": "le délai court à nouveau, au plus tard le {due}; confirmation "
                            "prête pour le demandeur",
        "extended": "prolongé de deux mois, nouvelle échéance {due}; avis au demandeur prêt",
        "closed": "clôturé ({outcome}) le {date}", "reopened": "rouvert",
        "after_identity": "après réception de la preuve d'identité",
    },
}}

_EN = {**_NL, **{
    "skip": "Skip to content", "nav": "Main menu", "worklist": "Work queue",
    "listed": "Listed mail", "new_case": "New case", "register": "Register", "digest": "Digest",
    "settings": "Settings", "sign_in": "Sign in", "sign_out": "Sign out",
    "signed_in_as": "Signed in as {name} ({role})", "language": "Language",
    "demo_banner": "Demo: local sign-in without a password, only on 127.0.0.1. "
                   "Not for real data.",
    "roles": {"viewer": "viewer", "handler": "handler", "admin": "admin"},
    "buckets": {
        "to_classify": "To classify", "overdue": "Overdue", "due_soon": "Due within {days} days",
        "extension": "Extension to decide", "identity": "Awaiting proof of identity",
        "review": "To review", "other": "Other open cases",
    },
    "col": {"reference": "Reference", "requester": "Requester", "rights": "Rights",
            "received": "Received", "due": "Due", "left": "Days left", "mailbox": "Mailbox",
            "status": "Status", "assignee": "Assignee", "reason": "Reason",
            "subject": "Subject", "from": "From", "kind": "Kind", "outcome": "Outcome",
            "extended": "Extended", "on_time": "On time", "closed": "Closed",
            "controller": "Controller"},
    "filters": "Filters", "search": "Search (reference or requester)", "apply": "Apply",
    "any": "Any", "due_before": "Due before", "needs_review": "Only to review",
    "no_cases": "No cases.", "open_cases": "{n} open cases",
    "shown": "{shown} of {total} shown", "next_page": "Next page", "prev_page": "Previous page",
    "statuses": {"open": "open", "awaiting_identity": "awaiting identity", "closed": "closed",
                 "to_classify": "to classify"},
    "kinds": {"request": "request", "question": "question", "to_classify": "to classify"},
    "rights": {"access": "access", "rectification": "rectification", "erasure": "erasure",
               "restriction": "restriction", "portability": "portability",
               "objection": "objection", "automated_decision": "automated decision"},
    "outcomes": {"answered": "answered", "refused": "refused", "withdrawn": "withdrawn",
                 "forwarded": "forwarded"},
    "question": "question", "suspended": "suspended", "yes": "yes", "no": "no",
    "case": "Case {ref}", "summary": "Summary", "clock": "Clock",
    "clock_received": "Received on {date}", "clock_due": "To be answered by {date}",
    "clock_target": "No legal clock (question); service target {date}",
    "clock_suspended": "Suspended since {date}, waiting for proof of identity ({n} days left)",
    "clock_suspension": "Suspended from {start} to {end}", "now": "now",
    "clock_extended": "Extended on {date} by {who}: {reason}",
    "clock_closed": "Closed on {date} ({outcome})", "late": "late", "in_time": "on time",
    "timeline": "Timeline", "messages": "Messages", "replies": "Replies",
    "identity": "Identity", "evidence": "Evidence", "attachments": "Attachments",
    "body_hidden": "Message texts are shown to handlers only.", "body": "Text",
    "no_messages": "No messages.", "no_replies": "No replies.", "actions": "Actions",
    "assign": "Assign", "person": "Person", "note": "Note", "add_note": "Add note",
    "text": "Text", "reclassify": "Reclassify", "rights_none": "No rights: a question",
    "reason_opt": "Reason (optional)", "reason_req": "Reason (required)",
    "identity_confirmed": "Identity confirmed", "how_received": "How the proof came",
    "on_date": "On", "proof_kind": "Kind of proof",
    "proofs": {"id_copy": "copy of ID card", "verified_signature": "valid signature"},
    "extend": "Extend by two months", "extend_reasons": "Reasons (sent to the requester)",
    "close": "Close", "outcome": "Outcome", "reopen": "Reopen", "save": "Save",
    "done": "Done: {what}", "refused": "Not allowed: {why}",
    "listed_intro": "Mail recorded without a case (list-only, robots), with the reason.",
    "open_case": "Open a case", "no_listed": "No listed mail.",
    "new_intro": "A request that came by post, by phone or at the counter.",
    "channel": "Channel", "channels": {"post": "post", "phone": "phone", "counter": "counter"},
    "requester_name": "Requester's name", "requester_address": "E-mail address (optional)",
    "received_on": "Received on", "kind": "Kind of case", "description": "Short description",
    "scan": "Scanned letter or ID copy (optional; not kept)",
    "acknowledge": "Send an acknowledgement by e-mail", "create": "Create case",
    "register_intro": "Register of requests (Art. 5(2) GDPR): no personal data.",
    "download_csv": "Download as CSV", "from": "From", "to": "To",
    "digest_intro": "The digest as staff receive it by mail.",
    "settings_intro": "The active settings (no secrets).",
    "error": "Error", "forbidden": "Access denied", "not_found": "Not found",
    "forbidden_text": "You have no access to this page or this case.",
    "not_found_text": "This page or case does not exist.",
    "csrf_text": "The form expired or did not come from this site. Reload the page.",
    "server_error_text": "Something went wrong. The error was logged; try again later.",
    "unavailable": "This action is not available in this version yet ({what}).",
    "invalid": "Check the form: {why}",
    "login_title": "Sign in", "login_intro": "Sign in with your organisation account.",
    "demo_login": "Demo sign-in", "demo_user": "Test user",
    "back": "Back to the work queue",
    "reports": {
        "assigned": "assigned to {who}", "note": "note added",
        "reclassified": "rights now: {rights}",
        "identity_noted": "proof of identity noted; the clock was not waiting for it",
        "identity_resumed": "the clock runs again, due {due}; confirmation queued to the "
                            "requester",
        "extended": "extended by two months, new due date {due}; notice queued to the "
                    "requester",
        "closed": "closed ({outcome}) on {date}", "reopened": "reopened",
        "after_identity": "after the proof of identity",
    },
}}

CATALOGUE = {"nl": _NL, "fr": _FR, "en": _EN}


@cache
def words(language: str) -> dict:
    """The catalogue of the language; the rights named as in the replies (words.yaml)."""
    if language not in CATALOGUE:
        language = "nl"
    return {**CATALOGUE[language], "rights": dict(staff_words(language)["rights"])}


def long_date(value: date | datetime | str | None, language: str) -> str:
    """"7 april 2026" (a datetime in Brussels time; an ISO string is parsed first)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(BRUSSELS).date()
    return format_long_date(value, language)


def long_datetime(value: datetime | str | None, language: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(BRUSSELS)
    return f"{format_long_date(local.date(), language)} {local:%H:%M}"
