"""Masking and salted hashing of identity numbers: what is kept instead of the number itself.

Use these for every identity number (ID copies and signature certificates alike) so that the same
national number gives the same `number_hash` whichever evidence carried it.
"""

from __future__ import annotations

import hashlib
import hmac
import re


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def mask_national_number(number: str) -> str:
    """"85073003361" -> "85.07.30-***.**": the birth date part stays, counter and check go."""
    d = digits(number)
    if len(d) != 11:
        return mask_document_number(number)
    return f"{d[0:2]}.{d[2:4]}.{d[4:6]}-***.**"


def mask_card_number(number: str) -> str:
    """A 12-digit eID card number: "591586761085" (591-5867610-85) -> "***-***7610-**"."""
    d = digits(number)
    if len(d) != 12:
        return mask_document_number(number)
    return f"***-***{d[6:10]}-**"


def mask_document_number(number: str) -> str:
    """Any other number: all but the last three characters hidden ("EM454572" -> "*****572")."""
    value = re.sub(r"[^0-9A-Za-z]", "", number)
    keep = 3 if len(value) > 5 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


def number_hash(salt: bytes | None, number: str, kind: str = "nn") -> str | None:
    """HMAC-SHA256 (hex) of a number under the configured salt; None without a salt.

    A national number is hashed as its 11 digits; other numbers as "KIND:NUMBER" (e.g.
    "passport:EM454572"), so different kinds of number never collide.
    """
    if not salt:
        return None
    text = digits(number) if kind == "nn" else f"{kind}:{re.sub(r'[^0-9A-Z]', '', number.upper())}"
    return hmac.new(salt, text.encode("ascii"), hashlib.sha256).hexdigest()
