"""Fictional signed messages and documents: S/MIME (detached, opaque), PGP/MIME, ASiC-E, PDFs.

Signatures are real (cryptography, pyHanko, signxml) with keys from tests/pki.py, except the
PGP one: the project only detects PGP, so `pgp_signed_mail` carries a well-formed but fake
OpenPGP signature packet (right armor, CRC-24 and packet layout; random signature value).
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zipfile
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, make_msgid

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader, PdfWriter
from signxml import methods
from signxml.xades import XAdESSigner

from tests.mailgen import AGO, minimal_pdf
from tests.pki import Issued, TestPKI

BODY = (
    "Beste,\r\n\r\nIk wil graag inzage in de persoonsgegevens die u over mij verwerkt.\r\n"
    "Deze e-mail is ondertekend met mijn eID.\r\n\r\nMet vriendelijke groeten,\r\n{name}\r\n"
)
SUBJECT = "Verzoek tot inzage in mijn persoonsgegevens"
ASICE_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
REQUEST_XML = (
    b'<verzoek xmlns="urn:example:dpo-intake"><recht>inzage</recht>'
    b"<tekst>Ik wil inzage in mijn persoonsgegevens.</tekst></verzoek>"
)


def sender_of(signer: Issued) -> tuple[str, str]:
    """(display name, address) matching the certificate: "Jan Peeters", jan.peeters@example.be."""
    given = signer.cert.subject.get_attributes_for_oid(NameOID.GIVEN_NAME)
    surname = signer.cert.subject.get_attributes_for_oid(NameOID.SURNAME)
    name = f"{given[0].value.split()[0]} {surname[0].value}" if given and surname else "An Peeters"
    return name, name.lower().replace(" ", ".") + "@example.be"


def _is_ec(signer: Issued) -> bool:
    return isinstance(signer.key, ec.EllipticCurvePrivateKey)


def _hash(signer: Issued) -> hashes.HashAlgorithm:
    return hashes.SHA384() if _is_ec(signer) else hashes.SHA256()


def _headers(sender: tuple[str, str], extra: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=sender[0], addr_spec=sender[1])
    msg["To"] = AGO
    msg["Subject"] = SUBJECT
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="example.be")
    for name, value in (extra or {}).items():
        msg[name] = value
    return msg.as_bytes(policy=policy.SMTP).rstrip(b"\r\n") + b"\r\n"


def content_entity(name: str, attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """The MIME entity that gets signed: a text part, or multipart/mixed with attachments."""
    part = MIMEPart(policy=policy.SMTP)
    part.set_content(BODY.format(name=name).replace("\r\n", "\n"), cte="quoted-printable")
    for filename, ctype, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        if part.get_content_type() == "text/plain":
            part.make_mixed()
        part.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return part.as_bytes(policy=policy.SMTP)


def _b64_lines(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"\r\n".join(text[i: i + 64] for i in range(0, len(text), 64)) + b"\r\n"


def smime_signed_mail(
    signer: Issued,
    pki: TestPKI,
    *,
    protocol: str = "application/pkcs7-signature",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    tamper: bool = False,
    lf_line_ends: bool = False,
    sender: tuple[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """multipart/signed. The x-pkcs7 form is cryptography's own S/MIME writer; the other is
    assembled here around a DER signature, as Outlook and Thunderbird send it."""
    who = sender or sender_of(signer)
    content = content_entity(who[0], attachments)
    builder = (
        pkcs7.PKCS7SignatureBuilder().set_data(content)
        .add_signer(signer.cert, signer.key, _hash(signer))
        .add_certificate(pki.citizen_ca.cert)
    )
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    if protocol == "application/x-pkcs7-signature":
        body = builder.sign(serialization.Encoding.SMIME, options)
    else:
        der = builder.sign(serialization.Encoding.DER, options)
        boundary = b"----=_signed_" + os.urandom(8).hex().encode()
        micalg = b"sha-384" if isinstance(_hash(signer), hashes.SHA384) else b"sha-256"
        body = (
            b"MIME-Version: 1.0\r\nContent-Type: multipart/signed;\r\n protocol=\""
            + protocol.encode() + b"\"; micalg=" + micalg + b";\r\n boundary=\"" + boundary
            + b"\"\r\n\r\nThis is a cryptographically signed message in MIME format.\r\n\r\n--"
            + boundary + b"\r\n" + content + b"\r\n--" + boundary
            + b"\r\nContent-Type: " + protocol.encode() + b"; name=\"smime.p7s\"\r\n"
            + b"Content-Transfer-Encoding: base64\r\n"
            + b"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n"
            + _b64_lines(der) + b"\r\n--" + boundary + b"--\r\n"
        )
    raw = _headers(who, extra_headers) + body
    if tamper:  # what a mailing list footer or a forger does: the body no longer matches
        raw = raw.replace(b"inzage in de", b"wissing van de", 1)
    if lf_line_ends:
        raw = raw.replace(b"\r\n", b"\n")
    return raw


def opaque_signed_mail(signer: Issued, pki: TestPKI, *, x_type: bool = False) -> bytes:
    """application/pkcs7-mime; smime-type=signed-data: the content travels inside the CMS."""
    who = sender_of(signer)
    der = (
        pkcs7.PKCS7SignatureBuilder().set_data(content_entity(who[0]))
        .add_signer(signer.cert, signer.key, _hash(signer))
        .add_certificate(pki.citizen_ca.cert)
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    ctype = b"application/x-pkcs7-mime" if x_type else b"application/pkcs7-mime"
    return (
        _headers(who) + b"MIME-Version: 1.0\r\nContent-Type: " + ctype
        + b"; smime-type=signed-data; name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n"
        + b"Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n" + _b64_lines(der)
    )


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def fake_pgp_signature() -> bytes:
    """An armored OpenPGP v4 signature packet with a random (meaningless) RSA value."""
    hashed = bytes([5, 2]) + struct.pack(">I", int(datetime.now(UTC).timestamp()))
    unhashed = bytes([9, 16]) + os.urandom(8)  # issuer key ID subpacket
    value = os.urandom(256)
    body = (
        bytes([4, 0x00, 1, 8]) + struct.pack(">H", len(hashed)) + hashed
        + struct.pack(">H", len(unhashed)) + unhashed + os.urandom(2)
        + struct.pack(">H", 2048) + value
    )
    packet = bytes([0xC2, 0xFF]) + struct.pack(">I", len(body)) + body
    armor = base64.b64encode(packet)
    lines = b"\r\n".join(armor[i: i + 64] for i in range(0, len(armor), 64))
    crc = base64.b64encode(_crc24(packet).to_bytes(3, "big"))
    return (b"-----BEGIN PGP SIGNATURE-----\r\n\r\n" + lines + b"\r\n=" + crc
            + b"\r\n-----END PGP SIGNATURE-----\r\n")


def pgp_signed_mail(name: str = "Eva Claes", *, broken: bool = False) -> bytes:
    """PGP/MIME (RFC 3156) multipart/signed; `broken` puts garbage in the signature block."""
    who = (name, name.lower().replace(" ", ".") + "@example.org")
    signature = fake_pgp_signature()
    if broken:
        signature = b"-----BEGIN PGP SIGNATURE-----\r\n\r\nnot base64 at all!\r\n" \
                    b"-----END PGP SIGNATURE-----\r\n"
    boundary = b"pgp_" + os.urandom(8).hex().encode()
    return (
        _headers(who) + b"MIME-Version: 1.0\r\nContent-Type: multipart/signed; "
        b"micalg=pgp-sha256;\r\n protocol=\"application/pgp-signature\"; boundary=\"" + boundary
        + b"\"\r\n\r\n--" + boundary + b"\r\n" + content_entity(name) + b"\r\n--" + boundary
        + b"\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n"
        + signature + b"\r\n--" + boundary + b"--\r\n"
    )


def asice_container(signer: Issued, pki: TestPKI, *, tamper: bool = False) -> bytes:
    """An ASiC-E container (.asice / .sce as DigiDoc4 or the Belgian DSS makes them) holding
    one XML document and a XAdES signature over it (signxml)."""
    algorithm = "ecdsa-sha384" if _is_ec(signer) else "rsa-sha256"
    xades = XAdESSigner(method=methods.detached, signature_algorithm=algorithm,
                        digest_algorithm="sha256")
    signature = xades.sign(
        etree.fromstring(REQUEST_XML), key=signer.key,
        cert=[signer.cert, pki.citizen_ca.cert], reference_uri=["verzoek.xml"],
    )
    document = REQUEST_XML.replace(b"inzage</recht>", b"wissing</recht>") if tamper else REQUEST_XML
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ASICE_MIMETYPE,
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("verzoek.xml", document, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/signatures0.xml", etree.tostring(signature),
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _pyhanko_signer(signer: Issued, pki: TestPKI) -> signers.SimpleSigner:
    key_der = signer.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    as_asn1 = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
               for c in (signer.cert, *pki.chain)]
    return signers.SimpleSigner(
        signing_cert=as_asn1[0], signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(as_asn1[1:]),
    )


def signed_pdf(signer: Issued, pki: TestPKI, *, modified: bool = False,
               text: str = "Verzoek tot inzage - Jan Peeters") -> bytes:
    """A one-page PDF with a PAdES signature (pyHanko); `modified` appends an incremental update
    after signing that changes the page content, as an editor saving over it would."""
    writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf(text)))
    out = signers.sign_pdf(
        writer, signers.PdfSignatureMetadata(field_name="Handtekening"),
        signer=_pyhanko_signer(signer, pki),
    )
    signed = out.getvalue()
    if not modified:
        return signed
    update = IncrementalPdfFileWriter(io.BytesIO(signed))
    stream = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 700 Td (Bedrag: 0 EUR) Tj ET")
    update.add_stream_to_page(0, update.add_object(stream))
    buffer = io.BytesIO()
    update.write(buffer)
    return buffer.getvalue()


def encrypted_signed_pdf(signer: Issued, pki: TestPKI, user_password: str = "") -> bytes:
    """A signed PDF encrypted with AES-256 (pypdf); an empty user password opens it for anyone."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf("Verzoek tot inzage"))))
    writer.encrypt(user_password=user_password, owner_password="eigenaar", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    incremental = IncrementalPdfFileWriter(io.BytesIO(buffer.getvalue()))
    incremental.encrypt(user_password.encode())
    return signers.sign_pdf(
        incremental, signers.PdfSignatureMetadata(field_name="Handtekening"),
        signer=_pyhanko_signer(signer, pki),
    ).getvalue()


def mail_with_attachment(filename: str, content_type: str, data: bytes,
                         sender: tuple[str, str] = ("Jan Peeters", "jan.peeters@example.be"),
                         extra_headers: dict[str, str] | None = None) -> bytes:
    """A plain (unsigned) request mail carrying one attachment."""
    maintype, _, subtype = content_type.partition("/")
    msg = EmailMessage(policy=policy.SMTP)
    msg.set_content(BODY.format(name=sender[0]).replace("\r\n", "\n"))
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    body = msg.as_bytes(policy=policy.SMTP)
    return _headers(sender, extra_headers) + body
