"""Exercising versus mentioning: who asks what for whom, as points taken off every right.

A message exercises a right when the writer asks, for their own data, the organisation they
write to to act. Many texts only mention rights: feature requests and user stories ("as a user
I want to delete my account"), implementation tickets and code reviews, freedom-of-information
requests ("inzage in bestuursdocumenten", "publicité de l'administration"), privacy-policy text
("you have the right to..."), staff acting on a client's or member's data, general questions about
the GDPR, breach news. Their words match the rules of a right all the same.

`assess` finds cues of mentioning (grouped by kind, each group counted once) and cues of
exercising (the writer's own data, a first-person request); the penalty is the mentioning weight
less the exercising offset, never below zero, and the classifier takes it off every right's score
with one explanation line naming the evidence:

    MENTIONING -5.5 every right: user story ('as a user'); implementation ('endpoint');
        exercising offset +1.5 ('my account')

The cue lists are plain regular expressions over the folded text (lowercase, no accents, plain
apostrophes): edit them here, then measure (docs/classification.md, "Mentioning a right").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from intake.classify.normalize import folded_text


@dataclass(frozen=True)
class CueGroup:
    """A kind of evidence: its name in the explanation, its weight, its patterns.

    `per_cue`: when set, every distinct matching pattern adds this much (up to `weight`);
    otherwise the group adds `weight` once when any pattern matches.
    """

    name: str
    weight: float
    patterns: tuple[str, ...]
    per_cue: float | None = None
    strong: bool = False  # the kind of text itself (a user story, an FOI request): no offset
    raw: bool = False  # matched on the text as written (code markup), not the folded text


def _group(name: str, weight: float, patterns: Sequence[str], per_cue: float | None = None,
           strong: bool = False, raw: bool = False) -> CueGroup:
    return CueGroup(name, weight, tuple(patterns), per_cue, strong, raw)


# The role of a user story ("as a registered user"); with "I want … so that" it is the story.
ROLE_EN = (r"\bas an? (registered |logged[- ]in |new |end |portal |app )?(user|customer|admin|"
           r"administrator|member|visitor|citizen|subscriber|developer|owner|player|client)\b"
           r"(?! of\b)")
ROLE_FR = (r"\ben tant qu'(utilisateur|utilisatrice|usager|client|administrateur|membre|abonne)"
           r"\b(?! de\b)")
ROLE_DE = (r"\bals (nutzer|nutzerin|benutzer|benutzerin|kunde|kundin|admin|mitglied|abonnent)"
           r"(,)? (mochte|will) ich")

# --- mentioning: the text is about a right, not a request to exercise it ----------------------
MENTIONING: tuple[CueGroup, ...] = (
    _group("freedom-of-information request", 7.0, [
        r"openbaarheid van (het )?bestuur", r"bestuursdocument", r"bestuursdecreet",
        r"openbaarheidsdecreet", r"wet open overheid", r"\bwoo[- ]?verzoek", r"\bwob[- ]?verzoek",
        r"\bwoo\b", r"publicite de l'administration", r"documents? administratifs?",
        r"acces aux documents", r"\bcada\b", r"freedom of information", r"\bfoia?\b",
        r"public records (act|request|law)", r"informationsfreiheit", r"\bifg\b",
        r"transparenzgesetz", r"umweltinformation",
    ], strong=True),
    _group("user story", 6.0, [
        r"user stor(y|ies)", r"acceptance criteria", r"criteres d'acceptation",
        r"acceptatiecriteria", r"akzeptanzkriterien", r"\bso that (we|they|users?) can\b",
        ROLE_EN + r"(,)? i (want|would like|'d like|need|should|can)\b.{0,200}\bso that\b",
        r"\bals (geregistreerde |ingelogde )?(burger|gebruiker|klant|bezoeker|beheerder|lid|"
        r"abonnee|ontwikkelaar) wil ik",
        ROLE_FR + r".{0,120}\bafin de\b",
        ROLE_DE + r".{0,160}\bdamit\b",
    ], strong=True),
    _group("written in a role (as a user, …)", 3.0, [ROLE_EN, ROLE_FR, ROLE_DE]),
    _group("privacy-policy or explanation of rights", 6.0, [
        r"\byou (have|has) the right to\b", r"\byou (may|can) (also )?(request|ask|exercise|"
        r"object|withdraw|lodge)\b", r"\bwe (collect|process|store|retain|share|use) (your|the|"
        r"personal|this|such)\b", r"\bthis privacy (policy|notice|statement)\b",
        r"\bto exercise (these|any of these) rights\b",
        r"\bu (heeft|hebt) (steeds )?het recht\b", r"\bje hebt (steeds )?het recht\b",
        r"\bwij (verzamelen|verwerken|bewaren|gebruiken) (uw|je|de|persoonsgegevens)\b",
        r"\bvous (avez|disposez) (egalement )?(le|d'un) droit\b",
        r"\bnous (collectons|traitons|conservons|utilisons) (vos|les|des)\b",
        r"\bsie haben (jederzeit )?das recht\b", r"\bwir (erheben|verarbeiten|speichern) (ihre|"
        r"personenbezogene|die)\b", r"\bbetroffene personen? (haben|hat|konnen)\b",
    ], strong=True),
    _group("explanation of how a right works", 3.5, [
        r"\bdata subjects? (have|has|can|may)\b",
        r"\bthe data subject shall have\b", r"\bla personne concernee a le droit\b",
        r"\bthe right (of|to) (access|erasure|rectification|object|portability|be forgotten)\b"
        r"[^.]{0,20}\b(allows|gives|means|lets|enables|applies)\b",
        r"\ble droit (d'acces|a l'effacement|de rectification|d'opposition|a la portabilite)"
        r" (vous )?(permet|signifie|s'applique)\b",
        r"\bhet recht (op|van) (inzage|verbetering|verwijdering|vergetelheid|bezwaar)"
        r" (geeft|houdt in|betekent|laat)\b",
        r"\bdas recht auf (auskunft|loschung|berichtigung) (gibt|bedeutet|erlaubt)\b",
        r"\bthe (controller|organisation|organization|company) (must|shall|has to|should)\b",
        r"\ble responsable (de|du) traitement (doit|est tenu)\b", r"\bl'organisme doit\b",
        r"\bde verwerkingsverantwoordelijke (moet|dient)\b",
        r"\bder verantwortliche (muss|hat)\b",
        r"\bhow to (exercise|make) (your|a|an)\b", r"\bcomment exercer\b",
        r"\bvous pouvez (demander|exercer|vous opposer|retirer|introduire)\b",
        r"\bu kunt (uw recht|vragen|verzoeken|bezwaar|een klacht)\b",
        r"\bsie konnen (verlangen|beantragen|widersprechen|ihre einwilligung)\b",
        r"\b(sample|template|model) letter\b", r"\bmodele de (courrier|lettre)\b",
        r"\bvoorbeeldbrief\b", r"\bmusterbrief\b", r"\bmusterschreiben\b",
    ]),
    _group("feature request", 3.5, [
        r"feature request", r"\bit would be (nice|great|good|useful|helpful|cool)\b",
        r"\bwould be (nice|great|useful) to have\b", r"\bnice to have\b",
        r"\badd (an? |the )?(option|button|setting|feature|ability|way|endpoint|command|"
        r"support for)\b", r"\ballow (users|people|members|customers|admins|the user) to\b",
        r"\b(users|people|members|customers) (should|could|must) be able\b",
        r"\bis your feature request\b", r"\bdescribe the solution\b",
        r"\b(proposal|enhancement|feature)\b",
        r"\bhet zou (handig|fijn|leuk|nuttig) zijn\b", r"\bfunctionaliteit\b",
        r"\bgebruikers (moeten|zouden|kunnen)\b.{0,40}\bkunnen\b",
        r"\bfonctionnalite\b", r"\bce serait (bien|pratique|utile|super)\b",
        r"\bpermettre aux (utilisateurs|membres|clients)\b",
        r"\bes ware (schon|gut|toll|praktisch|hilfreich|sinnvoll)\b", r"\bfunktion(alitat)?\b",
        r"\bthere (should|needs to|must) be\b", r"\bshould be (possible|able)\b",
        r"\bthere is no (way|option|button|setting)\b", r"\b(the|an) (ability|option|"
        r"possibility) to\b", r"\bwould it be possible to (add|have|support)\b",
        r"\bany plans\b", r"\bplease consider\b", r"\bwould love\b",
        r"\bgdpr[- ](compliance|compliant)\b", r"\bcompliance\b",
        r"\b(nutzer|benutzer)(innen)? (sollten|sollen|konnen|mussen)\b",
    ]),
    _group("implementation", 4.0, [
        r"\bimplement", r"\bimplementeren\b", r"\bimplementer\b", r"\bimplementieren\b",
        r"\bpull request\b", r"\bthis pr\b", r"\bmerge", r"\bendpoints?\b", r"\bapi\b",
        r"\bdatabase\b", r"\bdatabank\b", r"\bdatenbank\b", r"\bbase de donnees\b",
        r"\bmigration\b", r"\bcommit\b", r"\brepo(sitory)?\b", r"\brefactor", r"\bbackend\b",
        r"\bfrontend\b", r"\bsoft[- ]delete\b", r"\bhard[- ]delete\b", r"\bcascade\b",
        r"\bschema\b", r"\bsteps to reproduce\b", r"\bexpected behaviou?r\b",
        r"\bstack ?trace\b", r"\bbug\b", r"\bsprint\b", r"\bbacklog\b", r"\bticket\b",
        r"\bcode\b", r"\bfunction\b", r"\bmodule\b", r"\bplugin\b", r"\bcron", r"\bscript\b",
        r"\bunit tests?\b", r"\bjson\b", r"\bsql\b", r"\bgithub\b", r"\bissue\b",
        r"\blogs?\b", r"\bversion \d", r"\bconfig(uration)?\b",
        r"\bwe (should|need to|could|must|have to)\b", r"\bwe moeten\b", r"\bon doit\b",
        r"\bwir (sollten|mussen)\b", r"\bcurrently\b", r"\bprs?\b", r"\bnpm\b", r"\bdocker\b",
        r"\breadme\b", r"\bdocumentation\b", r"\brelease\b", r"\bdeploy", r"\bserver\b",
        r"\badmin (panel|interface|ui)\b", r"\bdashboard\b", r"\bui\b", r"\bux\b",
    ], per_cue=1.0),
    _group("the reader's own data (a help page)", 2.5, [
        r"\byour (personal )?(data|account|information)\b(?! (about|on|of) me)",
        r"\b(uw|je) (persoons)?gegevens\b", r"\bvos donnees\b",
        r"\byour rights\b", r"\bvos droits\b", r"\bvotre (demande|droit)\b",
        r"\b(uw|je) (rechten|verzoek|aanvraag)\b", r"\bihre (rechte|anfrage)\b",
        r"\bihr recht\b", r"\bihren antrag\b",
    ]),
    _group("issue-tracker template", 3.0, [
        r"\bdescribe the bug\b", r"\bto reproduce\b", r"\badditional context\b",
        r"\bdescribe alternatives\b", r"\balternatives considered\b", r"\bactual behaviou?r\b",
        r"\b(os|browser|environment|platform): ", r"\bworkaround\b", r"\buse case\b",
        r"\bchangelog\b", r"\brelated (issue|to #)",
        r"\b(closes|fixes|resolves) #", r"\bthis (change|patch|commit)\b",
    ], per_cue=1.5),
    _group("code or issue-tracker markup", 3.0, [
        r"```", r"`[^`\n]{2,60}`", r"\b\w+\.(py|js|ts|tsx|go|rb|java|php|ya?ml|json|sql|rs|cs)\b",
        r"\b[a-z]+_[a-z]+(_[a-z]+)*\(", r"\b[a-z]+[A-Z][A-Za-z]*\(", r"(^|\s)#\d{2,}\b",
        r"^#{1,4} ", r"^- \[[ x]\] ",
    ], per_cue=1.0, raw=True),
    _group("someone else's data", 3.0, [
        r"\b(the|each|every|our|all|other) users?\b(?! (name|id))", r"\busers' (data|accounts?)\b",
        r"\busers (can|could|should|will|who|are|have|must|may)\b",
        r"\b(a|the) (customer|client|member|employee|candidate|patient|student|tenant)s?\b"
        r"(?! of)", r"\bthe data subjects?\b", r"\ba data subject\b",
        r"\b(his|her) (account|data|details|record|records|file|name|profile|address)\b",
        r"\b(de|een) (gebruiker|klant|klanten|kandidaat|kandidaten|leden|burgers|"
        r"betrokkene|betrokkenen|medewerker)\b", r"\bzijn (gegevens|account|dossier|naam)\b",
        r"\bhaar (gegevens|account|dossier|naam)\b",
        r"\b(l'|les |un )(utilisateur|utilisateurs|client|clients|membre|membres|"
        r"candidat|candidats)\b", r"\bses (donnees|coordonnees)\b",
        r"\b(der|die|ein|eine) (nutzer|benutzer|kunde|kunden|kundin|mitglied|"
        r"mitglieder|betroffene|betroffenen)\b", r"\bseine[mn]? (daten|konto|account)\b",
        r"\bihre[mn]? (daten|konto|account)\b(?= .{0,20}\b(er|sie)\b)",
    ], per_cue=1.5),
    _group("general question about the law", 2.5, [
        r"\bis (it|this|that) (legal|allowed|lawful|gdpr compliant)\b", r"\bdoes (the )?gdpr\b",
        r"\bunder (the )?gdpr,? (do|does|must|can|is|are)\b", r"\bcan a (company|website|"
        r"business|employer)\b", r"\bam i (allowed|obliged|required)\b",
        r"\bis (het|dat|dit) (wel )?(toegelaten|wettelijk|legaal|gdpr-proof)\b",
        r"\bmag (een|mijn) (bedrijf|werkgever|organisatie|website)\b",
        r"\best-(il|ce) (legal|permis|autorise)\b", r"\bist (es|das) (erlaubt|zulassig|legal)\b",
        r"\bdarf (ein|eine|mein|meine) (firma|unternehmen|arbeitgeber|website)\b",
    ]),
    # A vendor selling a GDPR tool names every right; its ask is a meeting, not an action.
    _group("sales pitch", 3.5, [
        r"\b(\d+|quick|short|brief)[- ]?(minute|min)s?\b.{0,20}\b(call|demo|chat|meeting)\b",
        r"\b(book|schedule|request|plan) a (free |short |quick )?(demo|call|meeting)\b",
        r"\bwould you (be open to|be interested in|have (\d+|a few) minutes)\b",
        r"\bfree (trial|demo|consultation|audit)\b",
        r"\bwe help (public|government|local|organi[sz]ations|companies|agencies|teams|bodies)\b",
        r"\bour (platform|tool|solution|software|product) (helps|automates|lets|allows|cuts)\b",
        r"\b(public sector|government) (teams|bodies|agencies|clients) (using|already use)\b",
        r"\bvrijblijvend(e)? (demo|gesprek|kennismaking|offerte)\b", r"\bkennismakingsgesprek\b",
        r"\bonze (oplossing|tool|software) (helpt|automatiseert)\b",
        r"\bnotre (solution|plateforme|outil|logiciel) (aide|permet|automatise)\b",
        r"\b(demonstration|demo) (gratuite|de \d+ minutes)\b",
        r"\bunverbindlich(e|es|en)? (demo|gesprach|angebot|termin)\b",
        r"\bunsere (losung|plattform|software) (hilft|automatisiert|ermoglicht)\b",
    ]),
    # A platform's notification, or staff reporting that the work on someone else's data is
    # done. "My account has been deleted" is a requester's own (often a complaint): the report
    # needs a third person's data ("his", "@name's", "zijn", "son", "sein").
    _group("notification or report of work done", 3.0, [
        r"\byou are receiving this because\b", r"\breply to this email directly\b",
        r"\bview it on (github|gitlab)\b", r"\bunsubscribe from this thread\b",
        r"\bmarked as (resolved|done|closed)\b", r"\b(closed|closing) (this (thread|issue|"
        r"ticket)|#\d)",
        r"(\b(his|her|their|its)\b|(?<!\bit)(?<!\bthat)(?<!\bwhat)(?<!\bthere)(?<!\bhere)"
        r"(?<!\bhe)(?<!\bshe)'s)[^.!?]{0,40}\b(has|have) been (deleted|removed|erased|"
        r"anonymi[sz]ed|corrected)\b",
        r"\b(zijn|haar|hun)\b[^.!?]{0,40}\b(is|zijn|werd|werden) (intussen |ondertussen |nu )?"
        r"(verwijderd|gewist|geanonimiseerd|rechtgezet|weggehaald)\b",
        r"\b(zoals gevraagd|zoals afgesproken) heb(ben)? (ik|we)\b",
        r"\b(son|sa|ses|leur|leurs)\b[^.!?]{0,40}\b(a|ont) ete (supprimee?s?|effacee?s?|"
        r"anonymisee?s?|corrigee?s?)\b", r"\bmarquee? comme resolue?\b",
        r"\b(sein|seine|ihr|ihre)[mnrs]?\b[^.!?]{0,40}\b(wurde|wurden) (geloscht|entfernt|"
        r"anonymisiert|berichtigt)\b", r"\bals erledigt markiert\b",
    ]),
    # An invitation's agenda lists the rights as topics of a meeting.
    _group("meeting agenda", 3.5, [
        r"\bagenda ?:", r"\bordre du jour\b", r"\btagesordnung\b", r"\bdagorde\b",
        r"\bhas invited you\b", r"\bhat sie zu\b.{0,40}\beingeladen\b",
        r"\bheeft (u|je) uitgenodigd\b", r"\bvous a invitee? a\b",
        r"\baction (items|points) ?:", r"\bactiepunten ?:",
    ]),
    _group("news or breach report", 3.0, [
        r"\bdata ?breach(es)?\b", r"\bhackers?\b", r"\bcyber ?attack", r"\bransomware\b",
        r"\bmillion (users|customers|accounts|records|people)\b", r"\bdatalek\b",
        r"\bfuite de donnees\b", r"\bcyberattaque\b", r"\bdatenleck\b", r"\bdatenpanne\b",
        r"\bhackerangriff\b", r"\bpress release\b", r"\bpersbericht\b",
        r"\bcommunique de presse\b", r"\bpressemitteilung\b",
    ]),
)

# --- exercising: the writer asks for their own data -------------------------------------------
EXERCISING: tuple[CueGroup, ...] = (
    _group("own data", 2.0, [
        r"\b(remove|delete|erase|unsubscribe|exclude|take|opt|leave) me\b",
        r"\bstop (e-?mailing|emailing|contacting|calling|texting|sending|scraping|tracking|"
        r"messaging) me\b", r"\bmy (work|works|photos?|images?|posts?|comments?|messages?|"
        r"content|contributions?|pictures?|videos?|texts?|website|site|blog|repositor(y|ies))\b",
        r"\bmy (personal |own )?(data|account|information|info|details|e-?mail|address|name|"
        r"profile|file|records?|phone|number|cv|photo|picture|username)\b",
        r"\bme from (your|the|this)\b", r"\babout me\b",
        r"\bmijn (persoons)?(gegevens|account|naam|adres|dossier|e-?mailadres|profiel|"
        r"telefoonnummer|cv|foto)\b", r"\bover mij\b",
        r"\b(mes|mon|ma) (donnees|compte|nom|adresse|dossier|profil|coordonnees|photo)\b",
        r"\bme concernant\b",
        r"\bmein(e|en|em)? (daten|personenbezogenen|konto|account|name|namen|adresse|"
        r"e-?mail|profil|akte)\b", r"\buber mich\b",
    ]),
    _group("on behalf of the data subject", 3.0, [
        r"\bon (behalf|the instructions) of (my|our)\b", r"\b(my|our) (client|member|son|daughter|"
        r"child|mother|father|principal)\b", r"\bnamens (mijn|ons|onze)\b",
        r"\b(mijn|ons|onze) (cliente?|lid|leden|zoon|dochter|kind|moeder|vader|lastgever)\b",
        r"\b(au nom|pour le compte) de (mon|ma|notre|nos)\b",
        r"\b(mon|ma|notre) (client|cliente|mandant|membre|affilie|fils|fille|enfant)\b",
        r"\b(im namen|im auftrag) (meine|unsere)", r"\b(mein|meine|unser|unsere)[mnrs]? "
        r"(mandant|mandantin|mitglied|sohn|tochter|kind|mutter|vater)\b",
        r"\b(mandate|volmacht|mandat|vollmacht)\b",
    ]),
    _group("addressed to the organisation", 1.0, [
        r"\byour (service|app|application|website|site|platform|company|database|list|"
        r"newsletter|mailing list|records|systems?|project|organisation|organization|store|"
        r"dataset|data set|corpus|archive|index|crawler|scraper|model|team|support)\b",
        r"\byou (have|hold|store|keep|collected|sent|shared|obtained|got|use|process) my\b",
        r"\b(jullie|uw) (databank|lijst|nieuwsbrief|website|dienst|systeem|bestand)\b",
        r"\b(votre|vos) (site|service|base|fichier|liste|newsletter|societe|entreprise)\b",
        r"\bihr(e|er|em)? (datenbank|liste|newsletter|webseite|website|dienst|unternehmen)\b",
    ]),
    _group("first-person request", 1.5, [
        r"\bi (would like|want|request|ask|demand|hereby|need) (you|to|that|a|my|the)\b",
        r"\bplease (delete|remove|erase|close|send|correct|stop|provide|unsubscribe|tell)\b",
        r"\bik (wil|vraag|verzoek|eis|zou graag)\b", r"\bgelieve\b",
        r"\bje (souhaite|demande|voudrais|vous prie|veux)\b", r"\bmerci de (supprimer|"
        r"m'envoyer|corriger|me)\b", r"\bich (mochte|bitte|fordere|verlange|beantrage)\b",
    ]),
)

# A subject (an issue title) that opens like a change to make is a feature or a task.
SUBJECT_TASK = CueGroup("title names a change to make", 3.0, (
    r"^\s*(\[?(feat|feature|rfe|enhancement|proposal|rfc|idea|suggestion|todo|task|"
    r"chore|refactor|docs|bug)\]?[:(\]]|(add|allow|support|implement|enable|provide|introduce|"
    r"make|expose|handle|create|improve|feature|option|ability|proposal|idea)\b)",
))
_SUBJECT_TASK = re.compile(SUBJECT_TASK.patterns[0])
# "we" and "users" written more than "I" and "my": a team writing about its users. Whole words
# of the folded text: one pass splits it into words (maximal runs of \w, what "\b…\b" around
# a word delimits), then each word is looked up, instead of three regex scans of every position.
VOICE = CueGroup("written by a team about its users", 2.5, ())
_WE = frozenset({"we", "our", "us", "wij", "onze", "ons", "nous", "notre", "nos", "wir", "uns",
                 "unser", "unsere", "unserm", "unsern", "unserr", "unsers", "unserem", "unseren",
                 "unserer", "unseres"})
_I = frozenset({"i", "my", "me", "mine", "ik", "mijn", "mij", "je", "mon", "ma", "mes", "moi",
                "ich", "mein", "meine", "meinen", "meinem", "meiner", "mir", "mich"})
_USERS = frozenset({"user", "users", "gebruiker", "gebruikers", "utilisateur", "utilisateurs",
                    "nutzer", "benutzer", "nutzerinnen"})
_WORD = re.compile(r"\w+")
WE_MIN = 3

# A weaker mentioning total than this is noise (one "api" in a developer's own request).
MIN_PENALTY = 2.0
MAX_PENALTY = 8.0


@dataclass(frozen=True)
class MentionSignal:
    """Points to take off every right, and the evidence for them."""

    penalty: float
    mentioning: tuple[tuple[str, float, tuple[str, ...]], ...]  # (group, points, matched)
    exercising: tuple[tuple[str, float, tuple[str, ...]], ...]

    @property
    def line(self) -> str | None:
        """The explanation line, or None when nothing is taken off."""
        if self.penalty <= 0:
            return None
        parts = [f"{name} ({', '.join(repr(m) for m in matched[:2])})"
                 for name, _points, matched in self.mentioning]
        text = f"MENTIONING -{self.penalty:.1f} every right: {'; '.join(parts)}"
        if self.exercising:
            offset = sum(points for _name, points, _m in self.exercising)
            said = ", ".join(repr(m) for _n, _p, matched in self.exercising for m in matched[:1])
            text += f"; exercising offset +{offset:.1f} on the weaker cues ({said})"
        return text


# Per group: one alternation of all its patterns (a single pass over the text, enough for a
# group that counts once) and the patterns themselves (for a group that counts each cue).
_Gated = tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...]
_Compiled = tuple[tuple[CueGroup, re.Pattern[str], _Gated, tuple[str, ...] | None], ...]


def _required(ops: Any) -> set[str] | None:
    """Strings one of which every match of these parsed regex ops contains (None: unknown).

    The longest of the literal runs, required groups and alternations met in sequence: a quick
    `in` test on the text then skips a group whose regexes cannot match (regexes starting with
    `\\b` get no prefix search from `re`, so a scan costs every position of the text).
    """
    candidates: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append({"".join(run)})
            run.clear()

    for op, arg in ops:
        if op is _c.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        found: set[str] | None = None
        if op is _c.SUBPATTERN:
            found = _required(arg[-1])
        elif op is _c.BRANCH:
            branches = [_required(branch) for branch in arg[1]]
            if all(b is not None for b in branches):
                found = set().union(*[b for b in branches if b is not None])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and arg[0] >= 1:
            found = _required(arg[2])
        if found:
            candidates.append(found)
    flush()
    if not candidates:
        return None
    return max(candidates, key=lambda c: min(len(x) for x in c))


def _triggers(patterns: Sequence[str]) -> tuple[str, ...] | None:
    """The union of the required strings of the patterns, or None when one has none."""
    out: set[str] = set()
    for pattern in patterns:
        found = _required(_parser.parse(pattern))
        if not found:
            return None
        out |= found
    return tuple(sorted(out))


def _compile(groups: Sequence[CueGroup]) -> _Compiled:
    out = []
    for group in groups:
        flags = re.MULTILINE if group.raw else 0
        combined = re.compile("|".join(f"(?:{p})" for p in group.patterns), flags)
        gated = tuple((re.compile(p, flags), _triggers([p])) for p in group.patterns)
        out.append((group, combined, gated, _triggers(group.patterns)))
    return tuple(out)


_MENTIONING = _compile(MENTIONING)  # raw groups use re.MULTILINE for ^
_EXERCISING = _compile(EXERCISING)
NONE = MentionSignal(0.0, (), ())


def folded(text: str) -> str:
    """Lowercase, no accents, plain apostrophes, one space between words (not cached)."""
    return " ".join(folded_text(text).split())


def _found(groups: _Compiled, text: str, raw: str) -> list[tuple[CueGroup, float, tuple[str, ...]]]:
    out = []
    for group, combined, patterns, triggers in groups:
        where = raw if group.raw else text
        # any(map(...)): the same test as any(t in where for t in …), without a generator.
        if triggers is not None and not any(map(where.__contains__, triggers)):
            continue
        first = combined.search(where)
        if first is None:
            continue
        hits = [first] if group.per_cue is None else [
            hit for hit in (pattern.search(where) for pattern, need in patterns
                            if need is None or any(map(where.__contains__, need))) if hit]
        matched = []
        for hit in hits:
            said = " ".join(hit.group(0).split())
            matched.append(said if len(said) <= 40 else said[:39] + "…")
        points = group.weight if group.per_cue is None else min(
            group.weight, group.per_cue * len(matched))
        out.append((group, points, tuple(matched)))
    return out


def assess(subject: str, body: str) -> MentionSignal:
    """The mentioning penalty for one message (subject and the requester's own text).

    Strong kinds (a freedom-of-information request, a user story, a privacy policy) count in
    full; the weak ones (feature request, implementation, code, someone else's data, a general
    question, news) only above MIN_PENALTY and less the exercising offset.
    """
    raw = f"{subject}\n{body}"
    text = folded(raw)
    mentioning = _found(_MENTIONING, text, raw)
    title = _SUBJECT_TASK.search(folded(subject)) if subject else None
    if title:
        cue = " ".join(title.group(0).split())
        mentioning.append((SUBJECT_TASK, SUBJECT_TASK.weight, (cue,)))
    words = _WORD.findall(text)
    we = sum(map(_WE.__contains__, words)) + sum(map(_USERS.__contains__, words))
    singular = sum(map(_I.__contains__, words))
    if we >= WE_MIN and we > 2 * singular:
        mentioning.append((VOICE, VOICE.weight, (f"{we} x we/our/users, {singular} x I/my",)))
    if not mentioning:
        return NONE
    exercising = _found(_EXERCISING, text, raw)
    strong = sum(points for group, points, _m in mentioning if group.strong)
    weak = sum(points for group, points, _m in mentioning if not group.strong)
    offset = sum(points for _g, points, _m in exercising)
    if weak < MIN_PENALTY:
        weak = 0.0
    penalty = min(MAX_PENALTY, strong + max(0.0, weak - offset))
    found = tuple((g.name, p, m) for g, p, m in mentioning)
    said = tuple((g.name, p, m) for g, p, m in exercising)
    return MentionSignal(round(penalty, 2) if penalty > 0 else 0.0, found, said)


def apply(scores: Mapping[str, float], rights: Sequence[str],
          signal: MentionSignal, scale: float = 1.0) -> dict[str, float]:
    """The scores with the penalty (times scale) taken off every right."""
    out = dict(scores)
    if signal.penalty > 0:
        for right in rights:
            out[right] = out.get(right, 0.0) - signal.penalty * scale
    return out
