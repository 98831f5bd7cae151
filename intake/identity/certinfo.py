"""What a signer certificate says: name, national number (masked, hashed), key usage, QC status."""

from __future__ import annotations

import re
from dataclasses import dataclass

from asn1crypto import x509
from stdnum.be import nn

from intake.identity.numbers import mask_national_number, number_hash

_ROLE_SUFFIX = re.compile(r"\s*\((signature|authentication|handtekening|signature qualifiée)\)$",
                          re.IGNORECASE)
# ETSI EN 319 412-1 semantics identifier: "PNOBE-85073003328" = national number, Belgium.
_PNO = re.compile(r"^PNO([A-Z]{2})-(.+)$")


@dataclass(frozen=True)
class CertFacts:
    name: str | None
    masked_number: str | None
    number_hash: str | None
    non_repudiation: bool
    qc_compliance: bool
    qc_sscd: bool

    @property
    def qualified(self) -> bool:
        """Qualified certificate on a qualified signature device (QcCompliance + QcSSCD)."""
        return self.qc_compliance and self.qc_sscd

    @property
    def qc_summary(self) -> str:
        found = [n for n, on in (("QcCompliance", self.qc_compliance), ("QcSSCD", self.qc_sscd))
                 if on]
        return "+".join(found) or "no qcStatements"


def national_number_of(cert: x509.Certificate) -> str | None:
    """The Belgian national register number in the subject serialNumber, if it is one."""
    try:
        value = str(cert.subject.native.get("serial_number") or "").strip()
    except ValueError:
        return None
    pno = _PNO.match(value)
    if pno:
        if pno.group(1) != "BE":
            return None
        value = pno.group(2)
    return nn.compact(value) if nn.is_valid(value) else None


def signer_name(cert: x509.Certificate) -> str | None:
    """Given name + surname when present, else the common name without "(Signature)"."""
    try:
        subject = cert.subject.native
    except ValueError:
        return None
    given, surname = subject.get("given_name"), subject.get("surname")
    if isinstance(given, list):
        given = " ".join(given)
    if given and surname:
        return f"{given} {surname}"
    common = subject.get("common_name")
    if isinstance(common, list):
        common = common[0]
    return _ROLE_SUFFIX.sub("", common).strip() or None if common else None


def cert_facts(cert: x509.Certificate, salt: bytes = b"") -> CertFacts:
    number = national_number_of(cert)
    usage = cert.key_usage_value
    usages = set(usage.native) if usage is not None else set()
    # Imported here: it loads all of pyHanko's signing code (~0.8 s), which the worker needs
    # only once a message carries a certificate (a worker's start must not wait for it).
    from pyhanko.sign.ades.qualified_asn1 import get_qc_statements

    try:
        statements = {s["statement_id"].native for s in get_qc_statements(cert)}
    except ValueError:  # a malformed extension reads as "no statements"
        statements = set()
    return CertFacts(
        name=signer_name(cert),
        masked_number=mask_national_number(number) if number else None,
        number_hash=number_hash(salt, number) if number else None,  # None without a salt
        non_repudiation="non_repudiation" in usages,
        qc_compliance="qc_compliance" in statements,
        qc_sscd="qc_sscd" in statements,
    )
