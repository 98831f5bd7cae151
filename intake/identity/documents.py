"""What the text read from one image or page says: which identity document, which side, and
what validated (MRZ check digits, Belgian national number mod-97, eID card number check).

A reading is *validated* only when a check digit backs it: a valid MRZ, or the card texts of a
document together with a national number or card number whose check holds. Card texts alone, or
MRZ-shaped lines whose checks fail, make a *possible* document that staff should look at.
A letter that mentions "identiteitskaart" and quotes a national number is neither: a document
header needs the title in two languages (as printed on Belgian cards) or the title and the
country name in two languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from stdnum.be import bis, eid, nn

from intake.identity.mrz import Mrz, find_mrz

TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "be_eid": {
        "nl": ("IDENTITEITSKAART",), "fr": ("CARTE D IDENTITE",),
        "de": ("PERSONALAUSWEIS",), "en": ("IDENTITY CARD",),
    },
    "passport": {
        "nl": ("PASPOORT",), "fr": ("PASSEPORT",), "de": ("REISEPASS",), "en": ("PASSPORT",),
    },
    "driving_licence": {
        "nl": ("RIJBEWIJS",), "fr": ("PERMIS DE CONDUIRE",), "de": ("FUHRERSCHEIN",),
        "en": ("DRIVING LICENCE", "DRIVING LICENSE"),
    },
    "residence_permit": {
        "nl": ("VERBLIJFSTITEL", "VERBLIJFSKAART"), "fr": ("TITRE DE SEJOUR", "CARTE DE SEJOUR"),
        "de": ("AUFENTHALTSTITEL", "AUFENTHALTSKARTE"),
        "en": ("RESIDENCE PERMIT", "RESIDENCE CARD"),
    },
}
COUNTRY = {"nl": "BELGIE", "fr": "BELGIQUE", "de": "BELGIEN", "en": "BELGIUM"}
FRONT_LABELS = ("VOORNAMEN", "PRENOMS", "GIVEN NAMES", "GEBOORTEDATUM", "DATE OF BIRTH",
                "KAARTNUMMER", "CARD NO", "GELDIG TOT", "VALID UNTIL", "NATIONALITEIT")
BACK_LABELS = ("RIJKSREGISTERN", "REGISTRE NATIONAL", "NATIONAL REGISTER", "GEBOORTEPLAATS",
               "PLACE OF BIRTH", "AFGEGEVEN TE", "DELIVREE A")
# The category codes of an EU licence's back (a "1" is often read as "l" or "I").
LICENCE_CATEGORIES = ("AM", "A[1IL]", "A2", "B[1IL]", "BE", "C[1IL]", "C[1IL]E", "CE", "D[1IL]",
                      "D[1IL]E", "DE")
# MRZ document codes (ICAO 9303: first letter I, A or C for cards) used for residence permits.
RESIDENCE_CODES = ("IR", "AR", "CR", "RP", "IP")


def _fuzzy_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase with any spacing between letters, and one wrong letter allowed if long."""
    compact = phrase.replace(" ", "")
    variants = [compact]
    if len(compact) >= 8:
        variants += [compact[:i] + "." + compact[i + 1 :] for i in range(len(compact))]
    alts = "|".join(r"\s?".join(re.escape(c) if c != "." else "." for c in v) for v in variants)
    return re.compile(rf"\b(?:{alts})\b")


_TITLE_RES = {doc: {lang: [_fuzzy_pattern(p) for p in phrases] for lang, phrases in by.items()}
              for doc, by in TITLES.items()}
_COUNTRY_RES = {lang: re.compile(rf"\b{word}\b") for lang, word in COUNTRY.items()}
_NN_RE = re.compile(r"(?<![0-9])([0-9OIlSB]{2})[ .]?([0-9OIlSB]{2})[ .]?([0-9OIlSB]{2})"
                    r"[ .-]{0,2}([0-9OIlSB]{3})[ .-]{0,2}([0-9OIlSB]{2})(?![0-9])")
_CARD_RE = re.compile(r"(?<![0-9])([0-9]{3})[ -]?([0-9]{7})[ -]?([0-9]{2})(?![0-9])")
_TO_DIGIT = str.maketrans("OIlSB", "01158")


def normalise(text: str) -> str:
    """Upper case ASCII, punctuation as spaces: "Carte d'identité" -> "CARTE D IDENTITE"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z0-9]+", " ", plain).strip()


@dataclass(frozen=True)
class Reading:
    """One image or page, as understood. `validated` is the bar for an id_copy finding."""

    document: str  # be_eid | passport | driving_licence | residence_permit | unknown
    sides: frozenset[str]
    validated: bool
    checks: tuple[str, ...]  # what validated, for the finding's detail
    signals: tuple[str, ...]  # what was seen, for a finding that did not validate
    national_number: str | None = None
    document_number: str | None = None
    names: str = ""  # the holder's names as read on the document (upper case, fuzzy)
    expiry: date | None = None

    @property
    def score(self) -> tuple[int, int, int]:
        return int(self.validated), len(self.checks), len(self.signals)


def national_numbers(text: str) -> list[str]:
    """Belgian national (or BIS) numbers in text whose mod-97 check holds."""
    found = []
    for match in _NN_RE.finditer(text):
        digits = "".join(match.groups()).translate(_TO_DIGIT)
        if (nn.is_valid(digits) or bis.is_valid(digits)) and digits not in found:
            found.append(digits)
    return found


def card_numbers(text: str) -> list[str]:
    """eID card numbers (xxx-xxxxxxx-yy) whose mod-97 check holds."""
    found = []
    for match in _CARD_RE.finditer(text):
        digits = "".join(match.groups())
        if eid.is_valid(digits) and digits not in found:
            found.append(digits)
    return found


def _titles(norm: str) -> dict[str, set[str]]:
    return {doc: {lang for lang, pats in by.items() if any(p.search(norm) for p in pats)}
            for doc, by in _TITLE_RES.items()}


def _mrz_document(mrz: Mrz, titles: dict[str, set[str]], belgian_number: bool) -> str:
    """Passport (TD3 / code P), residence permit, Belgian eID (issued by BEL, or a Belgian
    national number in the optional data), or another state's card: "unknown"."""
    if mrz.format == "TD3" or mrz.document_code.startswith("P"):
        return "passport"
    if mrz.document_code in RESIDENCE_CODES or titles["residence_permit"]:
        return "residence_permit"
    if mrz.issuing_state == "BEL" or belgian_number:
        return "be_eid"
    return "unknown"


def _mrz_national_number(mrz: Mrz) -> str | None:
    if mrz.issuing_state not in ("BEL", "") and mrz.nationality != "BEL":
        return None
    digits = mrz.optional[:11].translate(_TO_DIGIT).replace("<", "")
    if len(digits) == 11 and (nn.is_valid(digits) or bis.is_valid(digits)):
        return digits
    return None


def _label_value(lines: Sequence[str], labels: Sequence[str], exclude: Sequence[str] = ()) -> str:
    """The line after the first line carrying one of the labels (labels above values)."""
    for i, line in enumerate(lines[:-1]):
        if any(lb in line for lb in labels) and not any(ex in line for ex in exclude):
            return lines[i + 1]
    return ""


def _printed_names(norm_lines: Sequence[str], document: str) -> str:
    if document == "driving_licence":
        fields = {m.group(1): m.group(2) for line in norm_lines
                  if (m := re.match(r"^([12]) (.+)$", line))}
        return " ".join(v for k, v in sorted(fields.items()))
    surname = _label_value(norm_lines, ("NAAM", "SURNAME"), ("VOORNAMEN",))
    given = _label_value(norm_lines, ("VOORNAMEN", "GIVEN NAMES", "PRENOMS"))
    return f"{surname} {given}".strip()


def analyse(text_lines: Sequence[str], today: date | None = None) -> Reading | None:
    """The reading of one image's or page's text lines, or None when nothing ID-like is there."""
    norm_lines = [normalise(t) for t in text_lines]
    norm = "\n".join(norm_lines)
    raw = "\n".join(text_lines)
    titles = _titles(norm)
    countries = {lang for lang, pat in _COUNTRY_RES.items() if pat.search(norm)}
    mrz = find_mrz(text_lines)
    nns = national_numbers(raw)
    cards = card_numbers(raw)

    mrz_nn = _mrz_national_number(mrz) if mrz else None
    mrz_ok = bool(mrz and mrz.valid(national_number_ok=mrz_nn is not None))
    headers = {doc: langs for doc, langs in titles.items()
               if len(langs) >= 2 or (langs and len(countries) >= 2)}

    checks: list[str] = []
    signals: list[str] = []
    if mrz_ok and mrz:
        document = _mrz_document(mrz, titles, mrz_nn is not None)
        names = ", ".join(c.replace("_", " ") for c in mrz.checks)
        checks.append(f"MRZ {mrz.format} check digits ok ({names})")
    elif headers:
        document = max(headers, key=lambda d: len(headers[d]))
    elif mrz and len(mrz.lines) >= 2 and mrz.checks:
        document = _mrz_document(mrz, titles, mrz_nn is not None)
    elif _licence_back(norm):
        document = "driving_licence"
        signals.append("driving licence categories table")
    else:
        return None

    if mrz is not None and not mrz_ok:
        signals.append(f"MRZ-like lines ({mrz.format}), check digits failed: "
                       + ", ".join(f.replace("_", " ") for f in mrz.failed))
    if document in headers:
        signals.append("card texts " + "/".join(sorted(headers[document])))
    national_number = mrz_nn or (nns[0] if nns else None)
    if national_number and (mrz_ok or document in headers):
        checks.append("national number mod-97 ok")
    card = cards[0] if cards else None
    if card and document in headers and document in ("be_eid", "residence_permit"):
        checks.append("card number check ok")
    validated = mrz_ok or (document in headers and bool(checks))
    if validated and document in headers:
        checks.append("card texts " + "/".join(sorted(headers[document])))

    sides = _sides(document, norm, norm_lines, mrz, card)
    names = mrz.names if mrz and mrz.names else _printed_names(norm_lines, document)
    expiry = _expiry(mrz) if mrz_ok and mrz else None
    if expiry and expiry < (today or date.today()):
        signals.append(f"expired on {expiry.isoformat()}")
    number = card or (mrz.document_number if mrz_ok and mrz else None)
    return Reading(
        document=document, sides=frozenset(sides), validated=validated,
        checks=tuple(dict.fromkeys(checks)), signals=tuple(signals),
        national_number=national_number if validated else None,
        document_number=number or None, names=names, expiry=expiry,
    )


def _sides(document: str, norm: str, norm_lines: Sequence[str], mrz: Mrz | None,
           card: str | None) -> set[str]:
    if document == "passport":
        return {"data_page"}
    sides = set()
    if document == "driving_licence":
        numbered = sum(bool(re.match(r"^(1|2|3|4A|4B|4C|4D|5) ", line)) for line in norm_lines)
        if numbered >= 3 or any(p.search(norm) for by in _TITLE_RES[document].values()
                                for p in by):
            sides.add("front")
        if _licence_back(norm):
            sides.add("back")
        return sides
    if (mrz and mrz.format == "TD1") or any(lb in norm for lb in BACK_LABELS):
        sides.add("back")
    titled = any(p.search(norm) for by in _TITLE_RES.get(document, {}).values() for p in by)
    if card or sum(lb in norm for lb in FRONT_LABELS) >= 2 or (titled and "back" not in sides):
        sides.add("front")
    return sides


def _licence_back(norm: str) -> bool:
    """The back of an EU driving licence: the category table (AM, A1, …) and columns 9–12."""
    categories = sum(bool(re.search(rf"\b{c}\b", norm)) for c in LICENCE_CATEGORIES)
    columns = sum(bool(re.search(rf"\b{c}\b", norm)) for c in ("9", "10", "11", "12"))
    return categories >= 5 and columns >= 2


def _expiry(mrz: Mrz) -> date | None:
    try:
        return date(2000 + int(mrz.expiry_date[:2]), int(mrz.expiry_date[2:4]),
                    int(mrz.expiry_date[4:6]))
    except ValueError:
        return None


# --- the holder's name against the sender's display name ----------------------------------

def _close(token: str, text: str) -> bool:
    """token occurs in text, allowing one misread letter (two for long tokens)."""
    if token in text:
        return True
    if len(token) < 4:
        return False
    allowed = 1 if len(token) < 9 else 2
    n = len(token)
    for i in range(len(text) - n + 1):
        window = text[i : i + n]
        if sum(a != b for a, b in zip(window, token, strict=True)) <= allowed:
            return True
    return False


def name_match(display_name: str, document_names: str) -> bool | None:
    """Whether the sender's display name is the holder's: None when either side is too thin.

    Every word of the display name (two letters or more, at least two words) must occur in the
    names read from the document. Brackets ("(DWSE)") and e-mail addresses are ignored.
    """
    display = re.sub(r"\(.*?\)|\[.*?\]|\S+@\S+", " ", display_name or "")
    tokens = [t for t in normalise(display).split() if len(t) >= 2 and not t.isdigit()]
    doc = " ".join(t for t in normalise(document_names or "").split() if len(t) >= 2)
    if len(tokens) < 2 or len(doc.replace(" ", "")) < 4:
        return None
    return all(_close(t, doc) for t in tokens)
