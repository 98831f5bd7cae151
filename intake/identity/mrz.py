"""ICAO 9303 machine-readable zones (TD1, TD2, TD3) found in OCR text, parsed field by field.

OCR of an MRZ is imperfect: `<` fillers come back as K, X, E, S or vanish, digits as look-alike
letters, and stray punctuation gets inserted. So each line is cleaned, every field is read with
its own alphabet (digit fields map O→0, I→1, …), lines of the wrong length are tried at every
alignment, and the check digits decide: the parse that validates most check digits wins.
Names are not protected by any check digit and are reported as read (fuzzy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

_WEIGHTS = (7, 3, 1)
# What OCR-B digits are misread as, and what letters are misread as.
_TO_DIGIT = str.maketrans("OQDUIJLZSBGT", "000011125867")
_TO_LETTER = str.maketrans("0125678", "OIZSGTB")
_TO_STATE = str.maketrans("0158", "OISB")  # state codes: only the likeliest misreads
_STATE_RE = re.compile(r"[A-Z<]{3}")
_FILLER_LOOKALIKES = "KXECS"
_JUNK_RE = re.compile(r"[^A-Z0-9<]")


def check_digit(value: str) -> int:
    """ICAO 9303 check digit: weights 7-3-1, digits as such, A=10…Z=35, `<` = 0."""
    total = 0
    for i, ch in enumerate(value):
        if ch.isdigit():
            n = int(ch)
        elif "A" <= ch <= "Z":
            n = ord(ch) - 55
        else:
            n = 0
        total += n * _WEIGHTS[i % 3]
    return total % 10


def clean_line(text: str) -> str:
    """Upper case, no spaces; guillemets become fillers; other junk is dropped (not replaced)."""
    text = text.upper().replace("«", "<<").replace("‹", "<").replace("Ç", "<")
    return _JUNK_RE.sub("", text.replace(" ", ""))


def _digits(value: str) -> str:
    return value.translate(_TO_DIGIT)


def _check_ok(value: str, digit: str) -> bool:
    digit = "0" if digit == "<" else _digits(digit)
    return digit.isdigit() and check_digit(value) == int(digit)


def _date_ok(yymmdd: str) -> bool:
    if not yymmdd.isdigit():
        return False
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    try:
        date(2000 + int(yymmdd[:2]), month, day)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Mrz:
    """A parsed zone. `checks` lists the check digits that validated, by field name."""

    format: str  # TD1 | TD2 | TD3
    document_code: str  # e.g. "ID", "IR", "P<"
    issuing_state: str
    document_number: str
    birth_date: str  # YYMMDD
    sex: str
    expiry_date: str
    nationality: str
    optional: str  # TD1 line 2 optional data / TD3 personal number
    names: str  # the name field as read, fillers as spaces ("" when that line was not read)
    checks: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def surname(self) -> str:
        return self.names.split("  ")[0].strip() if self.names else ""

    def valid(self, national_number_ok: bool = False) -> bool:
        """Birth date and expiry validate, and two more check digits do (a valid national number
        in the optional data counts for two: its mod-97 is as strong as two check digits).

        One check digit holds by chance one time in ten, so a misaligned or misread zone does
        not pass on birth date, expiry and one lucky digit.
        """
        checks = set(self.checks)
        if not {"birth_date", "expiry_date"} <= checks:
            return False
        more = len(checks & {"document_number", "composite", "personal_number"})
        return more + 2 * national_number_ok >= 2


def _name_field(value: str) -> str:
    """SURNAME<<GIVEN<NAMES -> "SURNAME  GIVEN NAMES" (fillers to spaces, tail dropped)."""
    tail = re.search(f"[<{_FILLER_LOOKALIKES}]*$", value)
    if tail and "<" in tail.group(0):  # the filler run, with its misread fillers, is dropped
        value = value[: tail.start() + tail.group(0).index("<")]
    return re.sub(r" {3,}", "  ", value.replace("<", " ").translate(_TO_LETTER)).strip()


def _document_number(field9: str, cd: str, optional: str) -> tuple[str, bool]:
    """The document number and whether its check digit holds; long numbers spill into optional."""
    number = field9.rstrip("<")
    if cd == "<" and optional:  # ICAO: > 9 characters, the rest (and the check) in optional data
        rest = re.match(r"[0-9A-Z]+", optional)
        if rest and len(rest.group(0)) >= 2:
            tail = rest.group(0)
            full = field9 + tail[:-1]
            full_digits = _digits(full) if _digits(full).isdigit() else full
            return full_digits, _check_ok(full_digits, tail[-1])
    if field9.isdigit() or _digits(field9.rstrip("<")).isdigit():
        numeric = _digits(number)
        return numeric, _check_ok(numeric.ljust(9, "<"), cd)
    return number, _check_ok(field9, cd)


def _fillers(line: str) -> str:
    """The trailing filler run with its misread fillers (K, X, …) put back to `<`."""
    tail = re.search(f"[<{_FILLER_LOOKALIKES}]*$", line)
    if not tail or "<" not in tail.group(0):
        return line
    start = tail.start() + tail.group(0).index("<")
    return line[:start] + "<" * (len(line) - start)


def _windows(line: str, width: int) -> list[str]:
    """Candidate readings of one OCR line as a `width`-character MRZ line (with its trailing
    fillers as read, and with misread fillers put back)."""
    out = _raw_windows(line, width)
    return list(dict.fromkeys([*out, *(_fillers(w) for w in out)]))


def _raw_windows(line: str, width: int) -> list[str]:
    if len(line) == width:
        return [line]
    if len(line) > width + 3:  # another format, or two lines run together
        return []
    if len(line) > width:
        out = [line[i : i + width] for i in range(len(line) - width + 1)]
        if len(line) == width + 1:  # one inserted character anywhere
            out += [line[:i] + line[i + 1 :] for i in range(len(line))]
        return out
    if len(line) >= width - 3:  # fillers at the end lost
        return [line.ljust(width, "<")]
    return []


def _body_td1(line2: str) -> dict[str, object] | None:
    birth, birth_cd = _digits(line2[0:6]), line2[6]
    sex = line2[7] if line2[7] in "MF" else "<"
    expiry, expiry_cd = _digits(line2[8:14]), line2[14]
    nationality = line2[15:18].translate(_TO_STATE)
    optional, composite = line2[18:29], line2[29]
    if not (_date_ok(birth) and _date_ok(expiry) and _STATE_RE.fullmatch(nationality)):
        return None
    return {
        "birth_date": birth, "birth_cd": birth_cd, "sex": sex, "expiry_date": expiry,
        "expiry_cd": expiry_cd, "nationality": nationality, "optional": optional,
        "composite": composite,
    }


def parse_td1(lines: Sequence[str | None]) -> Mrz | None:
    """Three 30-character lines; line 1 or 3 may be None (not read)."""
    line1, line2, line3 = lines
    if line2 is None:
        return None
    body = _body_td1(line2)
    if body is None:
        return None
    checks, failed = [], []
    for name in ("birth_date", "expiry_date"):
        (checks if _check_ok(str(body[name]), str(body[name[:-4] + "cd"]))
         else failed).append(name)
    code = state = number = ""
    if line1:
        code, state = line1[0:2].translate(_TO_LETTER), line1[2:5].translate(_TO_STATE)
        number, ok = _document_number(line1[5:14], line1[14], line1[15:30])
        (checks if ok else failed).append("document_number")
        digits2 = _digits(line2[0:7]) + _digits(line2[8:15]) + line2[18:29]
        composite_src = line1[5:30] + digits2[0:7] + digits2[7:14] + digits2[14:]
        (checks if _check_ok(composite_src, str(body["composite"])) else failed).append(
            "composite")
    return Mrz(
        format="TD1", document_code=code, issuing_state=state, document_number=number,
        birth_date=str(body["birth_date"]), sex=str(body["sex"]),
        expiry_date=str(body["expiry_date"]), nationality=str(body["nationality"]),
        optional=str(body["optional"]), names=_name_field(line3) if line3 else "",
        checks=tuple(checks), failed=tuple(failed),
        lines=tuple(x for x in (line1, line2, line3) if x),
    )


def _parse_long(line1: str | None, line2: str, fmt: str) -> Mrz | None:
    """TD2 (36) and TD3 (44): line 2 starts with the document number."""
    number9, number_cd = line2[0:9], line2[9]
    nationality = line2[10:13].translate(_TO_STATE)
    birth, birth_cd = _digits(line2[13:19]), line2[19]
    sex = line2[20] if line2[20] in "MF" else "<"
    expiry, expiry_cd = _digits(line2[21:27]), line2[27]
    if not (_date_ok(birth) and _date_ok(expiry) and _STATE_RE.fullmatch(nationality)):
        return None
    checks, failed = [], []
    for name, value, cd in (("birth_date", birth, birth_cd), ("expiry_date", expiry, expiry_cd)):
        (checks if _check_ok(value, cd) else failed).append(name)
    if fmt == "TD3":
        optional, optional_cd, composite = line2[28:42], line2[42], line2[43]
        if optional.strip("<"):
            (checks if _check_ok(optional, optional_cd) else failed).append("personal_number")
    else:
        optional, composite = line2[28:35], line2[35]
    number_ok = _check_ok(number9, number_cd)
    (checks if number_ok else failed).append("document_number")
    end = 43 if fmt == "TD3" else 35
    src = line2[0:10] + line2[13:20] + line2[21:end]
    src = src[:10] + _digits(src[10:17]) + _digits(src[17:24]) + src[24:]
    (checks if _check_ok(src, composite) else failed).append("composite")
    code = state = names = ""
    if line1:
        code, state = line1[0:2].translate(_TO_LETTER), line1[2:5].translate(_TO_STATE)
        names = _name_field(line1[5:])
    return Mrz(
        format=fmt, document_code=code, issuing_state=state,
        document_number=number9.rstrip("<"), birth_date=birth, sex=sex, expiry_date=expiry,
        nationality=nationality, optional=optional, names=names,
        checks=tuple(checks), failed=tuple(failed),
        lines=tuple(x for x in (line1, line2) if x),
    )


def _score(mrz: Mrz) -> tuple[int, int]:
    return len(mrz.checks), -len(mrz.failed)


def _looks_like_mrz(line: str) -> bool:
    return len(line) >= 20 and (line.count("<") >= 2 or sum(c.isdigit() for c in line) >= 12)


def find_mrz(text_lines: Sequence[str]) -> Mrz | None:
    """The best-validating MRZ among OCR lines (any format), or None when there is none."""
    lines = [clean_line(t) for t in text_lines]
    lines = [x for x in lines if x]
    best: Mrz | None = None
    for i, raw in enumerate(lines):
        if not _looks_like_mrz(raw):
            continue
        prev = lines[i - 1] if i > 0 else None
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        candidates: list[Mrz | None] = []
        for line2 in _windows(raw, 30):
            for line1 in [*_windows(prev, 30), None] if prev else [None]:
                for line3 in [*_windows(nxt, 30)[:1], None] if nxt else [None]:
                    candidates.append(parse_td1((line1, line2, line3)))
        for width, fmt in ((44, "TD3"), (36, "TD2")):
            for line2 in _windows(raw, width):
                line1 = _windows(prev, width)[:1] if prev else []
                candidates.append(_parse_long(line1[0] if line1 else None, line2, fmt))
        for mrz in candidates:
            if mrz is not None and (best is None or _score(mrz) > _score(best)):
                best = mrz
    return best
