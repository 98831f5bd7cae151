"""One validated signature (a Check) becomes one piece of Evidence with its identity status."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509

from intake.identity import Evidence
from intake.identity.certinfo import CertFacts, cert_facts
from intake.identity.trust import Anchors


@dataclass(frozen=True)
class Check:
    """The outcome of validating one signature, before any status is decided."""

    intact: bool  # the digest over the signed content matches: nothing changed after signing
    valid: bool  # the signature value verifies with the signer's public key
    trusted: bool = False  # chain to a configured anchor, every certificate valid at signing time
    problem: str = ""  # why it is not trusted, in words
    broken: str = ""  # a reason that makes an intact signature invalid (a PDF modified after it)
    # Set when the check was refused or could not run (a DTD, too many References, too many
    # certificates): intact/valid then mean nothing and the evidence says "not verified".
    unverified: str = ""
    cert: x509.Certificate | None = None
    signing_time: datetime | None = None
    chain: tuple[str, ...] = ()  # common names, signer's issuer first


@dataclass(frozen=True)
class Judge:
    """What every check needs: the anchors, the clock, the hash salt and the sender's name."""

    anchors: Anchors
    now: datetime
    salt: bytes
    display_name: str

    def evidence(self, check: Check, type: str, what: str, **where: str | None) -> Evidence:
        return to_evidence(check, type=type, what=what, salt=self.salt,
                           display_name=self.display_name, **where)


def _facts(cert: x509.Certificate | None, salt: bytes) -> CertFacts | None:
    try:
        return cert_facts(cert, salt) if cert is not None else None
    except (ValueError, TypeError, KeyError):  # a malformed certificate says nothing usable
        return None


def name_tokens(name: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    return {t for t in letters.split() if len(t) > 1}


def names_match(signer: str | None, display_name: str) -> bool | None:
    """Same person by name: every word of the shorter name appears in the longer (2+ words)."""
    a, b = name_tokens(signer or ""), name_tokens(display_name)
    if not a or not b:
        return None
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 2 and shorter <= longer


def to_evidence(
    check: Check,
    *,
    type: str,
    what: str,
    salt: bytes,
    display_name: str = "",
    attachment: str | None = None,
    sha256: str | None = None,
) -> Evidence:
    """Decide the status: verified only if intact, valid, trusted and made for non-repudiation."""
    facts = _facts(check.cert, salt)
    notes = [what]
    if check.unverified:
        status = "unverified_signature"
        notes.append(check.unverified)
    elif not check.intact:
        status = "invalid_signature"
        notes.append("content changed after signing (digest mismatch)")
    elif not check.valid:
        status = "invalid_signature"
        notes.append("signature value does not verify")
    elif check.broken:
        status = "invalid_signature"
        notes.append(check.broken)
    elif not check.trusted:
        status = "unverified_signature"
        notes.append(check.problem or "not trusted")
    elif facts is None or not facts.non_repudiation:
        status = "unverified_signature"
        notes.append("certificate lacks nonRepudiation (an authentication certificate?)")
    else:
        status = "verified_signature"
        notes.append("chain: " + " → ".join(check.chain) if check.chain else "trusted")
    if facts is not None:
        notes.append(f"certificate: {facts.qc_summary}"
                     + ("" if facts.non_repudiation else ", no nonRepudiation"))
    if check.signing_time is not None:
        notes.append(f"signing time (claimed): {check.signing_time.isoformat(timespec='seconds')}")
    signer = facts.name if facts else None
    # Evidence is never more than was checked: a refused verification is not "valid".
    sound = check.intact and check.valid and not check.broken and not check.unverified
    return Evidence(
        type=type,
        status=status,
        attachment=attachment,
        valid=sound,
        trusted=sound and check.trusted,
        # qcStatements are the issuer's word: they count only for a signature we trust
        qualified=bool(sound and check.trusted and facts and facts.qualified),
        signer=signer,
        detail="; ".join(notes),
        masked_number=facts.masked_number if facts else None,
        number_hash=facts.number_hash if facts else None,
        name_match=names_match(signer, display_name) if signer else None,
        sha256=sha256,
    )


def failure(type: str, what: str, reason: str, *, attachment: str | None = None,
            sha256: str | None = None) -> Evidence:
    """A signature was found but could not be read or checked at all: invalid, with the reason."""
    return Evidence(type=type, status="invalid_signature", attachment=attachment,
                    detail=f"{what}; {reason}", sha256=sha256)
