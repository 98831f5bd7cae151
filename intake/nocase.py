"""Positive evidence that a message is nobody's request (invoice, calendar, newsletter, phishing,
automated system). Pure code: without such evidence a person's message gets a case.

Each detector names what it saw, so the triage's explanation says why no case was opened. The
detectors are deliberately strict: a wrong "no case" is a missed legal deadline, a wrong
"to classify" only costs staff a click. A message a person forwarded or replied to is that
person's message, so content evidence (invoice, newsletter) does not count for it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy

from intake.message import ParsedMessage

INVOICE = "invoice"
CALENDAR = "calendar"
NEWSLETTER = "newsletter"
PHISHING = "phishing"
SPAM = "spam"
AUTOMATED = "automated"
KINDS = (INVOICE, CALENDAR, NEWSLETTER, PHISHING, SPAM, AUTOMATED)

# "Fwd:", "Doorst:", "TR:", "WG:", "Re:", "Antw:", "AW:" in front of a subject: a person sent it on.
_FORWARD_OR_REPLY = re.compile(r"^\s*(?:fwd?|doorst|tr|wg|re|antw|aw|sv)\s*:", re.I)

_INVOICE_WORDS = re.compile(r"\b(?:factuur|facturen|facture|invoice|rechnung|creditnota)\b", re.I)
_AMOUNT = re.compile(
    r"(?:€|\bEUR)\s?\d{1,3}(?:[.\s]?\d{3})*(?:[.,]\d{2})\b"
    r"|\b\d{1,3}(?:[.\s]?\d{3})*[.,]\d{2}\s?(?:€|EUR\b)",
    re.I,
)
_INVOICE_NUMBER = re.compile(
    r"\b(?:factuur\s?(?:nummer|nr\.?|n°)|invoice\s?(?:number|no\.?|#)|"
    r"(?:num[ée]ro|n°)\s?de\s?facture|facture\s?n°|rechnungs\s?(?:nummer|nr\.?))\s*[:#]?\s*"
    r"[A-Z0-9][A-Z0-9/-]{2,}",
    re.I,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")
_PAYMENT_WORDS = re.compile(
    r"\b(?:te betalen|betalen vóór|vervaldag|gestructureerde mededeling|à payer|échéance|"
    r"amount due|payment due|zahlbar bis|fällig)\b", re.I,
)

_UNSUBSCRIBE_HREF = re.compile(
    r"href\s*=\s*[\"']?[^\"'>\s]*(?:unsubscribe|uitschrijven|afmelden|desabonner|"
    r"désabonner|desinscri|abmelden|abbestellen|optout|opt-out)", re.I,
)
# Headers that e-mail marketing platforms put on every campaign mail.
_BULK_MAILER_HEADERS = ("x-campaign", "x-campaignid", "x-mailgun-tag", "x-sg-eid",
                        "x-mc-user", "x-csa-complaints", "x-mailchimp-campaign", "x-sib-id",
                        "feedback-id", "x-feedback-id", "x-newsletter")
_BULK_MAILERS = re.compile(r"mailchimp|sendinblue|brevo|mailgun|sendgrid|campaign monitor|"
                           r"mailjet|hubspot|salesforce marketing|flexmail|acumbamail|"
                           r"klaviyo|constant contact", re.I)

_LINK = re.compile(r"https?://[^\s<>\"')]+", re.I)
_LURE_WORDS = re.compile(
    r"\b(?:wachtwoord|password|mot de passe|passwort|kennwort|log\s?in|inloggen|aanmelden|"
    r"connectez|anmelden|verifi[eë]er|verify|vérifie[rz]|bestätigen|bevestig|confirm|"
    r"account|compte|konto|mailbox|postvak|boîte|geblokkeerd|blocked|bloqué|gesperrt|"
    r"klik hier|click here|cliquez ici|hier klicken|dringend|urgent|dringend)\b", re.I,
)
_RISKY_EXTENSIONS = (".html", ".htm", ".shtml", ".svg", ".zip", ".rar", ".7z", ".iso", ".img",
                     ".exe", ".scr", ".js", ".vbs", ".bat", ".cmd", ".lnk", ".hta", ".jar",
                     ".docm", ".xlsm", ".pptm", ".one")

# Advertising spam: several of these next to a link, and no request in sight (the triage asks
# the classifier first). One phrase alone never counts.
_SPAM_PHRASES = re.compile(
    r"\b(?:you have been selected|exclusive (?:prize|offer|deal)|claim (?:it|your prize|now)|"
    r"congratulations|limited time offer|offer expires|act now|100% free|winner|"
    r"u bent geselecteerd|exclusieve prijs|claim hem|proficiat|voor de actie afloopt|"
    r"vous avez été sélectionné|félicitations|offre exclusive|gagnant|"
    r"sie wurden ausgewählt|herzlichen glückwunsch|exklusive(?:r|s)? (?:preis|angebot)|gewinner)\b",
    re.I,
)

_DMARC_PASS = re.compile(r"(?:^|[;\s])dmarc\s*=\s*pass\b", re.I)
_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|noreply-[\w.-]+|donotreply)$", re.I)
_SYSTEM_LOCAL_PARTS = frozenset({
    "notification", "notifications", "notify", "alerts", "alert", "monitoring", "system",
    "cron", "root", "daemon", "scheduler", "jenkins", "automailer", "mailer",
})
_SYSTEM_HEADERS = ("x-cron-env", "x-generated-by", "x-jenkins-job", "x-github-reason",
                   "x-gitlab-project", "x-zabbix", "x-nagios")


@dataclass(frozen=True)
class NoCaseEvidence:
    """Why a message is nobody's request: the kind of evidence and what was seen."""

    kind: str  # one of KINDS
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return f"no case: {self.kind}: {'; '.join(self.reasons)}"


def no_case_evidence(
    msg: ParsedMessage,
    own_domains: Collection[str] = (),
    dmarc_failed: bool = False,
) -> NoCaseEvidence | None:
    """The strongest positive evidence that `msg` is nobody's request, or None (a person's mail).

    Phishing is checked first (a lure must never be answered), then the automated senders, the
    calendar invitations, the invoices and the newsletters.
    """
    for found in (
        _phishing(msg, own_domains, dmarc_failed),
        _automated(msg),
        _calendar(msg),
        None if _sent_on_by_person(msg) else _invoice(msg),
        None if _sent_on_by_person(msg) else _newsletter(msg),
        None if _sent_on_by_person(msg) else _spam(msg),
    ):
        if found is not None:
            return found
    return None


def _sent_on_by_person(msg: ParsedMessage) -> bool:
    return bool(_FORWARD_OR_REPLY.match(msg.subject)) or bool(msg.in_reply_to)


def _invoice(msg: ParsedMessage) -> NoCaseEvidence | None:
    names = " ".join(a.filename or "" for a in msg.attachments)
    text = f"{msg.subject}\n{msg.text}\n{names}"
    if not _INVOICE_WORDS.search(text):
        return None
    amount = _AMOUNT.search(text)
    if amount is None:
        return None
    seen = [f"invoice wording, an amount ({amount.group(0).strip()})"]
    if _INVOICE_NUMBER.search(text):
        seen.append("an invoice number")
    if _IBAN.search(msg.text):
        seen.append("an IBAN")
    if _PAYMENT_WORDS.search(text):
        seen.append("payment terms")
    if len(seen) < 2:  # an amount alone in a person's mail about an invoice is not enough
        return None
    return NoCaseEvidence(INVOICE, tuple(seen))


def _calendar(msg: ParsedMessage) -> NoCaseEvidence | None:
    if msg.content_type == "text/calendar":
        return NoCaseEvidence(CALENDAR, ("the message is a text/calendar invitation",))
    if any(a.content_type == "text/calendar" or (a.filename or "").lower().endswith(".ics")
           for a in msg.attachments):
        return NoCaseEvidence(CALENDAR, ("a text/calendar (.ics) invitation is attached",))
    if b"text/calendar" not in msg.raw[:200_000].lower():
        return None
    try:
        top = message_from_bytes(msg.raw, policy=email_policy.compat32)
        parts = [part.get_content_type() for part in top.walk()]
    except Exception:  # hostile MIME: no evidence then
        return None
    if "text/calendar" in parts:
        return NoCaseEvidence(CALENDAR, ("a text/calendar part (calendar invitation)",))
    return None


def _newsletter(msg: ParsedMessage) -> NoCaseEvidence | None:
    seen = []
    for name in _BULK_MAILER_HEADERS:
        if msg.header_values(name):
            seen.append(f"has {name.title()} (a mailing platform's header)")
            break
    mailer = " ".join(msg.header_values("x-mailer") + msg.header_values("user-agent"))
    if _BULK_MAILERS.search(mailer):
        seen.append(f"sent with {_BULK_MAILERS.search(mailer).group(0)}")  # type: ignore[union-attr]
    if msg.html and _UNSUBSCRIBE_HREF.search(msg.html):
        seen.append("an unsubscribe link in the HTML")
    # One mailing-platform sign alone is not enough: a person may write from such a tool.
    if len(seen) < 2:
        return None
    return NoCaseEvidence(NEWSLETTER, tuple(seen))


def _spam(msg: ParsedMessage) -> NoCaseEvidence | None:
    text = f"{msg.subject}\n{msg.text}"
    phrases = sorted({m.group(0).lower() for m in _SPAM_PHRASES.finditer(text)})
    if len(phrases) < 2 or not _LINK.search(text + (msg.html or "")):
        return None
    return NoCaseEvidence(SPAM, (f"advertising: a link and {', '.join(phrases[:3])}",))


def _phishing(
    msg: ParsedMessage, own_domains: Collection[str], dmarc_failed: bool
) -> NoCaseEvidence | None:
    domains = {d.lower() for d in own_domains if d}
    sender_domain = msg.from_address.rpartition("@")[2].lower()
    # A colleague's own mail passes DMARC for our domain; only an unverified one is a spoof.
    verified = any(_DMARC_PASS.search(v) for v in msg.authentication_results)
    if sender_domain and sender_domain in domains and not verified:
        foreign = [a for a in msg.reply_to if a.rpartition("@")[2].lower() not in domains]
        if foreign:
            return NoCaseEvidence(PHISHING, (
                f"From claims our own domain {sender_domain} but Reply-To points elsewhere "
                f"({foreign[0].rpartition('@')[2]})",
            ))
    if not dmarc_failed:
        return None
    risky = [a.filename for a in msg.attachments
             if (a.filename or "").lower().endswith(_RISKY_EXTENSIONS)]
    if risky:
        return NoCaseEvidence(PHISHING, (f"DMARC failed and a risky attachment ({risky[0]})",))
    links = _LINK.findall(msg.text) + _LINK.findall(msg.html or "")
    lures = sorted({m.group(0).lower() for m in _LURE_WORDS.finditer(f"{msg.subject}\n{msg.text}")})
    # Two different lure words: "account" alone is also what a person asks to have erased.
    if links and len(lures) >= 2:
        return NoCaseEvidence(PHISHING, (
            f"DMARC failed, a link and lure wording ({', '.join(lures[:3])})",
        ))
    return None


def _automated(msg: ParsedMessage) -> NoCaseEvidence | None:
    local = msg.from_address.partition("@")[0].lower()
    # A web form sends from a no-reply address with the person in Reply-To: a person's message.
    if any(not _NO_REPLY.match(a.partition("@")[0]) for a in msg.reply_to):
        return None
    if local and _NO_REPLY.match(local):
        return NoCaseEvidence(AUTOMATED, (f"sent from a no-reply address ({local}@…)",))
    if local in _SYSTEM_LOCAL_PARTS:
        return NoCaseEvidence(AUTOMATED, (f"sent by a system account ({local}@…)",))
    for name in _SYSTEM_HEADERS:
        if msg.header_values(name):
            return NoCaseEvidence(AUTOMATED, (f"has {name.title()} (a system's header)",))
    return None
