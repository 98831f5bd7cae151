"""Belgian national register numbers and eID card numbers masked in any text or bytes.

A number is masked only when its check digits are right (mod 97), so case references, phone
numbers and amounts stay as they are. The masked forms are those of intake.identity.numbers:
"85.07.30-***.**" (the birth date stays, as in the rest of the case file) and "***-***7610-**".
Matching across evidence uses the salted hashes kept there, never the text.
"""

from __future__ import annotations

import re
from typing import Any

# Digits between non-alphanumerics, so hex hashes and Message-ID tokens are left alone.
_SEP = r"[ .\-/]?"
_NN = re.compile(
    rf"(?<![0-9A-Za-z])(\d\d){_SEP}(\d\d){_SEP}(\d\d){_SEP}(\d\d\d){_SEP}(\d\d)(?![0-9A-Za-z])"
)
_CARD = re.compile(rf"(?<![0-9A-Za-z])(\d\d\d){_SEP}(\d{{7}}){_SEP}(\d\d)(?![0-9A-Za-z])")
# Cheap test before the regular expressions: no run of digits, nothing to mask.
_DIGITS = re.compile(r"\d{2}")


def valid_national_number(digits: str) -> bool:
    """11 digits whose last two are 97 - (first nine mod 97), for births before or after 2000."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    check = int(digits[9:])
    return check in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97)


def valid_card_number(digits: str) -> bool:
    """12 digits whose last two are the first ten mod 97 (97 when that is 0)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    return int(digits[10:]) == (int(digits[:10]) % 97 or 97)


def _nn(match: re.Match[str]) -> str:
    digits = "".join(match.groups())
    if not valid_national_number(digits):
        return match.group(0)
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-***.**"


def _card(match: re.Match[str]) -> str:
    digits = "".join(match.groups())
    return f"***-***{digits[6:10]}-**" if valid_card_number(digits) else match.group(0)


def mask_numbers(text: str) -> str:
    """The text with every valid national register number and eID card number masked."""
    if not text or not _DIGITS.search(text):
        return text
    return _CARD.sub(_card, _NN.sub(_nn, text))


def mask_bytes(data: bytes) -> bytes:
    """The same for ASCII-compatible bytes (a serialised e-mail): read byte for byte as Latin-1,
    so every other byte comes back unchanged."""
    if not data:
        return data
    return mask_numbers(data.decode("latin-1")).encode("latin-1")


def mask_value(value: Any) -> Any:
    """A statement parameter with numbers masked: text, bytes, or containers of them."""
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        masked = mask_bytes(data)
        return masked if masked != data else value
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value
