"""A fictional test PKI shaped like the Belgian eID one: root → "Citizen CA" → signature cert.

Every key is generated here, at test time; nothing in it is a real certificate or person.
The names can mirror the real public Belgian eID CAs (pass `root_name` / `ca_name`) so a test
can show that a chain of that exact shape is handled, without ever holding their private keys.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign.ades.qualified_asn1 import QcStatement, QcStatements

QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def national_number(birth: str = "850730", sequence: int = 33) -> str:
    """A fictional Belgian national register number (YYMMDD + 3-digit sequence + mod-97 check).

    Born before 2000 as written; a 20xx birth adds a leading 2 to the check, as the register does.
    """
    base = f"{birth}{sequence:03d}"
    check = 97 - int(base) % 97
    if int(birth[:2]) < 25:  # this test PKI treats 00-24 as born in the 2000s
        check = 97 - int("2" + base) % 97
    return f"{base}{check:02d}"


def _new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown key kind {kind!r}")


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm:
    return hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()


def _name(**attrs: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME, "SN": NameOID.SURNAME,
        "GN": NameOID.GIVEN_NAME, "serialNumber": NameOID.SERIAL_NUMBER, "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


def qc_statements_der(*statement_ids: str) -> bytes:
    """DER of a qcStatements extension value (ETSI EN 319 412-5), e.g. ("qc_compliance",)."""
    return QcStatements([QcStatement({"statement_id": s}) for s in statement_ids]).dump()


class TestPKI:
    """Root CA → "Citizen CA" → end-entity certificates, all with fresh keys of one kind."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        kind: str = "rsa",
        *,
        root_name: x509.Name | None = None,
        ca_name: x509.Name | None = None,
        label: str = "Test",
    ) -> None:
        self.kind = kind
        now = datetime.now(UTC)
        self.root = self._issue(
            root_name or _name(C="BE", CN=f"Belgium {label} Root CA {kind.upper()}"),
            issuer=None, ca=True, not_before=now - timedelta(days=3650),
            not_after=now + timedelta(days=3650),
        )
        self.citizen_ca = self._issue(
            ca_name or _name(C="BE", serialNumber="202601", CN="Citizen CA"),
            issuer=self.root, ca=True, not_before=now - timedelta(days=1825),
            not_after=now + timedelta(days=1825),
        )

    def signature_cert(
        self,
        given: str = "Jan Maria",
        surname: str = "Peeters",
        number: str | None = None,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        non_repudiation: bool = True,
        qc: tuple[str, ...] = ("qc_compliance", "qc_sscd"),
    ) -> Issued:
        """A citizen's signature certificate (an eID "(Signature)" certificate by default).

        `non_repudiation=False` gives the shape of the eID authentication certificate instead.
        """
        now = datetime.now(UTC)
        role = "Signature" if non_repudiation else "Authentication"
        subject = _name(
            C="BE", CN=f"{given.split()[0]} {surname} ({role})", SN=surname, GN=given,
            serialNumber=number or national_number(),
        )
        return self._issue(
            subject, issuer=self.citizen_ca, ca=False,
            not_before=not_before or now - timedelta(days=365),
            not_after=not_after or now + timedelta(days=3 * 365),
            non_repudiation=non_repudiation, qc=qc,
        )

    @property
    def chain(self) -> list[x509.Certificate]:
        """The CA certificates a signer sends along (intermediate first)."""
        return [self.citizen_ca.cert, self.root.cert]

    def _issue(
        self,
        subject: x509.Name,
        *,
        issuer: Issued | None,
        ca: bool,
        not_before: datetime,
        not_after: datetime,
        non_repudiation: bool = True,
        qc: tuple[str, ...] = (),
    ) -> Issued:
        key = _new_key(self.kind)
        signing_key = issuer.key if issuer else key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.cert.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if issuer:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
            )
        usage = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"),
            False,
        )
        if ca:
            usage.update(key_cert_sign=True, crl_sign=True)
        elif non_repudiation:
            usage["content_commitment"] = True  # nonRepudiation, alone, as on the eID
        else:
            usage["digital_signature"] = True
        builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
        if qc:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(QC_STATEMENTS_OID, qc_statements_der(*qc)), False
            )
        cert = builder.sign(signing_key, _hash_for(signing_key))
        return Issued(cert=cert, key=key)


@functools.cache
def shared_pki(kind: str = "rsa", label: str = "Test") -> TestPKI:
    """One PKI per (kind, label) per test session: key generation is the slow part."""
    return TestPKI(kind, label=label)


def untrusted_pki(kind: str = "rsa") -> TestPKI:
    """A second, unrelated hierarchy with the same shape (its root is never configured)."""
    return shared_pki(kind, "Untrusted")


def anchors_dir(path, *pkis: TestPKI, der: bool = False):
    """Write the roots of `pkis` to `path` (PEM, or DER with der=True) and return it."""
    path.mkdir(parents=True, exist_ok=True)
    for i, pki in enumerate(pkis):
        if der:
            data = pki.root.cert.public_bytes(serialization.Encoding.DER)
            (path / f"root{i}.cer").write_bytes(data)
        else:
            (path / f"root{i}.pem").write_bytes(pki.root.pem)
    return path

