"""A hostile-mail corpus: messages built to hang, exhaust or fool the worker, plus normal mail.

    python -m tests.hostilegen OUT_DIR [--scale 1.0]    # writes NNN-class-variant.eml files

Every class of issue 13 is here: nested Form XObject PDFs (fan-out 10, depth 6 and 9), zip
bombs in DOCX and ASiC (members that declare 1 kB and inflate to gigabytes), a flate-bomb
content stream, an object-stream bomb, a scanned PDF with a huge MediaBox, XML signatures with
thousands of References, a CMS with 1,000 CA certificates of one name, our own address in
From, a garbage RFC 2047 subject, header injection, MIME bombs (deep nesting, many parts),
HTML bombs, XXE / entity expansion, and normal requests queued behind them.

Bombs are built streaming: a deflate stream of N gigabytes of zeros is compressed chunk by chunk
(about 1 MB of output per GB), never held inflated in memory. `scale` shrinks the inflated
sizes for quick tests (1.0: 1-2 GB bombs; 0.25 still far over every limit).
All names and addresses are fictional (example.be / example.org).
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

AGO = "dpo.ago@vlaanderen.be"
SENDER = ("Jan Peeters", "jan.peeters@example.be")
DS = "http://www.w3.org/2000/09/xmldsig#"
ASICE_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GB = 1 << 30

REQUEST_NL = (
    "Geachte,\n\nGraag had ik inzage gekregen in alle persoonsgegevens die u over mij "
    "verwerkt, op grond van artikel 15 van de AVG. Kunt u mij ook laten weten aan wie u "
    "mijn gegevens hebt doorgegeven?\n\nMet vriendelijke groeten,\nJan Peeters\n"
)
COVERING_NOTE = "Goedemiddag,\n\nZie bijlage.\n\nJan\n"


@dataclass(frozen=True)
class Hostile:
    """One message of the corpus: its class, a variant label and the raw bytes."""

    cls: str
    variant: str
    raw: bytes
    normal: bool = False  # a normal request (must become a case), not an attack

    @property
    def name(self) -> str:
        return f"{self.cls}-{self.variant}"


# --- mail ------------------------------------------------------------------------------------

def mail(body: str = REQUEST_NL, *, subject: str = "Vraag", sender: tuple[str, str] = SENDER,
         attachments: Sequence[tuple[str, str, bytes]] = (), number: int = 0,
         extra: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f'"{sender[0]}" <{sender[1]}>'
    msg["To"] = AGO
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
                                  + timedelta(minutes=number))
    msg["Message-ID"] = f"<hostile-{number}-{abs(hash((subject, body))) % 10**8}@example.be>"
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, ctype, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def forwarded(inner: bytes, number: int = 0) -> bytes:
    """`inner` as an attached message (message/rfc822), as a colleague forwards it."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = '"Els Wouters" <els.wouters@example.be>'
    msg["To"] = AGO
    msg["Subject"] = "Fwd: verzoek"
    msg["Date"] = format_datetime(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<hostile-fwd-{number}@example.be>"
    msg.set_content("Ter info, zie het bericht in bijlage.\n")
    msg.add_attachment(inner, maintype="application", subtype="octet-stream",
                       filename="doorgestuurd.eml")
    return msg.as_bytes()


# --- PDF -------------------------------------------------------------------------------------

def pdf_file(objects: Sequence[bytes], root: int = 1) -> bytes:
    out = bytearray(b"%PDF-1.5\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, xref)
    return bytes(out)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def nested_forms_pdf(fanout: int = 10, depth: int = 6) -> bytes:
    """A page drawing Form XObject 1, which draws form 2 `fanout` times, and so on `depth`
    levels deep: fanout**depth draws from a file of a few kB (the innermost draws text and a
    rectangle, so there is work at every leaf)."""
    # objects: 1 catalog, 2 pages, 3 page, 4 contents, 5 font, 6.. forms level 0..depth-1
    first_form = 6
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /X %d 0 R >> >> >>" % first_form,
        stream(b"", b"q /X Do Q"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for level in range(depth):
        if level == depth - 1:
            content = b"BT /F1 12 Tf 10 10 Td (leaf) Tj ET 0 0 5 5 re f"
            resources = b"<< /Font << /F1 5 0 R >> >>"
        else:
            content = b" ".join(b"q 1 0 0 1 %d 0 cm /X Do Q" % i for i in range(fanout))
            resources = b"<< /Font << /F1 5 0 R >> /XObject << /X %d 0 R >> >>" % (
                first_form + level + 1)
        objects.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                              b"/Resources " + resources, content))
    return pdf_file(objects)


@functools.lru_cache(maxsize=8)
def deflated_zeros(size: int, fill: bytes = b"\x00") -> tuple[bytes, int]:
    """(raw deflate stream, crc32) of `size` bytes of `fill`, compressed chunk by chunk."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = fill * (1 << 20)
    out = bytearray()
    crc = 0
    left = size
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        out += compressor.compress(piece)
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    out += compressor.flush()
    return bytes(out), crc


def zlib_zeros(size: int, fill: bytes = b" ") -> bytes:
    """A zlib (FlateDecode) stream of `size` bytes of `fill`."""
    raw, _ = deflated_zeros(size, fill)
    adler = zlib.adler32(b"")  # pdf readers do not insist on the trailer; keep it well formed
    left, block = size, fill * (1 << 20)
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        adler = zlib.adler32(piece, adler)
        left -= len(piece)
    return b"\x78\xda" + raw + struct.pack(">I", adler)


def flate_bomb_pdf(size: int = GB) -> bytes:
    """A page whose content stream inflates to `size` bytes of spaces."""
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream(b"/Filter /FlateDecode", zlib_zeros(size)),
    ])


def object_stream_bomb_pdf(size: int = GB) -> bytes:
    """The page tree lives in an object stream (/Type /ObjStm) padded to inflate to `size`
    bytes: a reader must inflate it all to find the page."""
    header = b"3 0 4 50 "
    objs = (b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>".ljust(50)
            + b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>")
    comp = zlib.compressobj(9)
    packed = bytearray(comp.compress(header + objs))
    left, block = size, b" " * (1 << 20)
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        packed += comp.compress(piece)
        left -= len(piece)
    packed += comp.flush()
    pdf = bytearray(b"%PDF-1.5\n")
    offsets = {1: len(pdf)}
    pdf += b"1 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n"
    offsets[2] = len(pdf)
    pdf += (b"2 0 obj\n" + stream(b"/Type /ObjStm /N 2 /First %d /Filter /FlateDecode"
                                   % len(header), bytes(packed)) + b"\nendobj\n")
    offsets[5] = len(pdf)
    rows = [b"\x00\x00\x00\x00\x00\xff",
            b"\x01" + struct.pack(">I", offsets[1]) + b"\x00",
            b"\x01" + struct.pack(">I", offsets[2]) + b"\x00",
            b"\x02" + struct.pack(">I", 2) + b"\x00",
            b"\x02" + struct.pack(">I", 2) + b"\x01",
            b"\x01" + struct.pack(">I", offsets[5]) + b"\x00"]
    pdf += (b"5 0 obj\n" + stream(b"/Type /XRef /Size 6 /W [1 4 1] /Root 1 0 R",
                                   b"".join(rows))
            + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[5])
    return bytes(pdf)


def huge_mediabox_scan(points: int = 14_400) -> bytes:
    """A "scanned" page with no text layer: one small grey image stretched over a MediaBox of
    `points` × `points` (the PDF maximum); rendered at OCR resolution it is gigapixels."""
    pixels = bytes(range(0, 256, 4)) * 64  # 64×64 grey
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
        b"/Resources << /XObject << /Im 5 0 R >> >> >>" % (points, points),
        stream(b"", b"q %d 0 0 %d 0 0 cm /Im Do Q" % (points, points)),
        stream(b"/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
               b"/BitsPerComponent 8", pixels),
    ])


# --- ZIP -------------------------------------------------------------------------------------

def lying_zip(members: Sequence[tuple[str, bytes | None, int]], declared: int = 1024) -> bytes:
    """A zip whose members are (name, data, 0) stored, or (name, None, size): a deflated bomb
    of `size` zero bytes that declares `declared` bytes in both headers."""
    out = bytearray()
    central = bytearray()
    for name, data, size in members:
        encoded = name.encode()
        if data is not None:
            payload, crc, method, real = data, zlib.crc32(data), 0, len(data)
        else:
            payload, crc = deflated_zeros(size)
            method, real = 8, declared
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                           len(payload), real, len(encoded), 0) + encoded + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                               crc, len(payload), real, len(encoded), 0, 0, 0, 0, 0,
                               offset) + encoded
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                       len(central), start, 0)
    return bytes(out)


def docx_bomb(size: int = GB) -> bytes:
    content_types = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                     b'package/2006/content-types"/>')
    return lying_zip([("[Content_Types].xml", content_types, 0),
                      ("word/document.xml", None, size),
                      ("word/media/image1.png", None, size)])


def asic_bomb(size: int = GB) -> bytes:
    return lying_zip([("mimetype", ASICE_MIMETYPE, 0), ("verzoek.xml", None, size),
                      ("META-INF/signatures0.xml", None, size)])


def png_bomb(side: int = 30_000) -> bytes:
    """A grey PNG of side × side pixels (900 MP at the default) whose IDAT is zeros, streamed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    idat = bytearray()
    for _ in range(side):
        idat += comp.compress(row)
    idat += comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(idat))
            + chunk(b"IEND", b""))


def nested_messages(depth: int = 30) -> bytes:
    """A request inside a forward inside a forward … `depth` times (message/rfc822)."""
    raw = mail(number=700 + depth)
    for level in range(depth):
        raw = forwarded(raw, 800 + level)
    return raw


# --- XML signatures --------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _self_signed() -> tuple[bytes, object]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jan Peeters (Signature)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER), key


def many_references_xml(references: int = 5_200, padding: int = 0) -> bytes:
    """An enveloped-signature XML document whose SignedInfo lists `references` References
    (each over the whole document, each a full canonicalisation if verified)."""
    cert_der, _ = _self_signed()
    ref = (f'<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="{DS}'
           'enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/'
           '2001/04/xmlenc#sha256"/><ds:DigestValue>'
           + base64.b64encode(b"\0" * 32).decode() + "</ds:DigestValue></ds:Reference>")
    signature = (
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod '
        'Algorithm="http://www.w3.org/2006/12/xml-c14n11"/><ds:SignatureMethod '
        'Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>'
        + ref * references + "</ds:SignedInfo><ds:SignatureValue>"
        + base64.b64encode(b"\1" * 64).decode() + "</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
        "<ds:X509Certificate>" + base64.b64encode(cert_der).decode()
        + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>")
    body = "<tekst>" + "verzoek tot inzage " * (padding // 20) + "</tekst>"
    return (f"<?xml version=\"1.0\"?><verzoek>{body}{signature}</verzoek>").encode()


def asic_many_references(references: int = 2_000, padding: int = 8 << 20) -> bytes:
    """An ASiC-E container whose signature file (~8 MB) lists `references` References."""
    signature = many_references_xml(references, padding)
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ASICE_MIMETYPE)
        archive.writestr("verzoek.xml", b"<verzoek>inzage</verzoek>",
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/signatures0.xml", signature,
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def xxe_xml(kind: str = "file") -> bytes:
    """XML that would read a local file (XXE) or expand entities (billion laughs), shaped like
    a signed XML document so the signature check parses it."""
    cert_der, _ = _self_signed()
    sig = (f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo/><ds:SignatureValue>AA==</ds:'
           'SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
           + base64.b64encode(cert_der).decode()
           + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>")
    if kind == "file":
        dtd = '<!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        body = "<naam>&x;</naam>"
    elif kind == "network":
        dtd = '<!DOCTYPE v [<!ENTITY x SYSTEM "http://192.0.2.1/x">]>'
        body = "<naam>&x;</naam>"
    else:
        ents = ['<!ENTITY l0 "lol">'] + [
            f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
        dtd = "<!DOCTYPE v [" + "".join(ents) + "]>"
        body = "<naam>&l9;</naam>"
    return f'<?xml version="1.0"?>{dtd}<v>{body}{sig}</v>'.encode()


# --- CMS -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def cms_same_name_cas(count: int = 1_000) -> bytes:
    """A multipart/signed S/MIME message whose CMS carries `count` CA certificates that all
    have the name of the signer's issuer (each signed by another key): path building has
    count! ways to try."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Citizen CA")])
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)]

    def issue(subject, key, signer_key, ca: bool, serial: int):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(serial)
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(signer_key, hashes.SHA256()))

    cas = [issue(ca_name, keys[i], keys[(i + 1) % count], True, 1000 + i) for i in range(count)]
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jan Peeters")]),
                   signer_key, keys[0], False, 5)
    content = (b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
               + REQUEST_NL.replace("\n", "\r\n").encode())
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(
        signer, signer_key, hashes.SHA256())
    for ca in cas:
        builder = builder.add_certificate(ca)
    der = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                    pkcs7.PKCS7Options.Binary])
    boundary = b"----=_signed_hostile"
    b64 = base64.encodebytes(der).replace(b"\n", b"\r\n")
    return (
        b'From: "Jan Peeters" <jan.peeters@example.be>\r\nTo: ' + AGO.encode()
        + b"\r\nSubject: Inzage\r\nDate: Thu, 05 Mar 2026 10:00:00 +0100\r\n"
        b"Message-ID: <hostile-cms-1000@example.be>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b'micalg=sha-256; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
        + content + b"\r\n--" + boundary + b"\r\nContent-Type: application/pkcs7-signature; "
        b'name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n'
        b'Content-Disposition: attachment; filename="smime.p7s"\r\n\r\n' + b64
        + b"\r\n--" + boundary + b"--\r\n"
    )


# --- header and MIME tricks ------------------------------------------------------------------

def garbage_subject(chars: int = 5_000) -> str:
    """An RFC 2047 subject of `chars` characters of mixed-script garbage (encoded words)."""
    alphabet = "ŽźßøæÆΩЖжшщ漢字のπσ₪€ﬁ" + "xqzkwvj"
    text = "".join(alphabet[(i * 7919) % len(alphabet)] for i in range(chars))
    return text


def deep_mime(depth: int = 200) -> bytes:
    head = (b'From: "Jan Peeters" <jan.peeters@example.be>\r\nTo: ' + AGO.encode()
            + b"\r\nSubject: Inzage\r\nMessage-ID: <hostile-deep-%d@example.be>\r\n"
              b"MIME-Version: 1.0\r\n" % depth)
    body = b"Content-Type: text/plain\r\n\r\n" + REQUEST_NL.encode() + b"\r\n"
    for level in range(depth):
        b = b"b%d" % level
        body = (b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n"
                + body + b"\r\n--" + b + b"--\r\n")
    return head + body


def many_parts(parts: int = 5_000) -> bytes:
    head = (b'From: "Jan Peeters" <jan.peeters@example.be>\r\nTo: ' + AGO.encode()
            + b"\r\nSubject: Inzage\r\nMessage-ID: <hostile-many-%d@example.be>\r\n"
              b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n' % parts)
    one = b"--p\r\nContent-Type: application/octet-stream; name=\"x.pdf\"\r\n\r\n%PDF-1.4\r\n"
    return (head + b"--p\r\nContent-Type: text/plain\r\n\r\n" + REQUEST_NL.encode() + b"\r\n"
            + one * parts + b"--p--\r\n")


def html_bomb(kind: str = "nest", size: int = 2_000_000) -> bytes:
    if kind == "nest":
        html = "<div>" * (size // 5) + "inzage" + "</div>" * (size // 6)
    elif kind == "wide":
        html = "<p>inzage persoonsgegevens</p>" * (size // 30)
    else:  # unclosed tags and entities
        html = ("<table><tr><td>&amp;&#x1F600;" * (size // 30))
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = '"Jan Peeters" <jan.peeters@example.be>'
    msg["To"] = AGO
    msg["Subject"] = "Inzage"
    msg["Message-ID"] = f"<hostile-html-{kind}@example.be>"
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def header_injection(variant: int) -> bytes:
    raw = mail(number=900 + variant).replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    tricks = [
        b"Subject: =?utf-8?q?Inzage=0D=0ABcc=3A_victim=40example=2Eorg?=",
        b"From: \"Jan\r\nBcc: victim@example.org\" <jan.peeters@example.be>",
        b"Reply-To: victim@example.org\r\n\tBcc: other@example.org",
        b"Subject: Inzage\x00\x00 nul bytes",
        b"From: =?utf-8?b?" + base64.b64encode(b"Jan\r\nBcc: v@example.org") + b"?= "
        b"<jan.peeters@example.be>",
        b"X-Long: " + b"a" * 200_000,
        b"To: " + b", ".join(b"u%d@example.org" % i for i in range(5_000)),
        b"Message-ID: <" + b"x" * 10_000 + b"@example.be>",
        b"From: " + b", ".join(b"u%d@example.org" % i for i in range(1_000)),
        b"Content-Type: multipart/mixed; boundary=\"" + b"b" * 5_000 + b"\"",
        b"\r\n".join(b"Received: from x%d.example.org by y.example.org" % i
                      for i in range(10_000)),
        b"Date: " + b"Thu, 99 Foo 99999 99:99:99 +9999" * 100,
    ]
    trick = tricks[variant % len(tricks)]
    name = trick.split(b":", 1)[0] + b":"
    lines = [line for line in head.split(b"\n") if not line.startswith(name)]
    return b"\r\n".join([*lines, trick]) + b"\r\n\r\n" + body.replace(b"\n", b"\r\n")


# --- the corpus ------------------------------------------------------------------------------

def corpus(scale: float = 1.0) -> Iterator[Hostile]:
    """Every hostile message (≥ 100) and normal requests behind them, in a fixed order."""
    big = max(int(GB * scale), 64 << 20)
    n = 0

    def numbered() -> int:
        nonlocal n
        n += 1
        return n

    pdf_kinds: list[tuple[str, Callable[[], bytes]]] = [
        ("forms-d6", lambda: nested_forms_pdf(10, 6)),
        ("forms-d9", lambda: nested_forms_pdf(10, 9)),
        ("forms-f20-d5", lambda: nested_forms_pdf(20, 5)),
        ("flate-bomb", lambda: flate_bomb_pdf(big)),
        ("objstm-bomb", lambda: object_stream_bomb_pdf(big)),
        ("mediabox", lambda: huge_mediabox_scan()),
    ]
    # Each PDF four ways: an ID-copy candidate, a letter behind "zie bijlage", declared as
    # octet-stream, and inside a forwarded message.
    for label, make in pdf_kinds:
        data = make()
        yield Hostile("pdf", f"{label}-attached", mail(
            REQUEST_NL, subject="Inzage", number=numbered(),
            attachments=[("identiteitskaart.pdf", "application/pdf", data)]))
        yield Hostile("pdf", f"{label}-letter", mail(
            COVERING_NOTE, subject="Verzoek", number=numbered(),
            attachments=[("brief.pdf", "application/pdf", data)]))
        yield Hostile("pdf", f"{label}-octet", mail(
            REQUEST_NL, subject="Inzage", number=numbered(),
            attachments=[("scan", "application/octet-stream", data)]))
        yield Hostile("pdf", f"{label}-forwarded", forwarded(mail(
            COVERING_NOTE, subject="Verzoek", number=numbered(),
            attachments=[("brief.pdf", "application/pdf", data)]), numbered()))
    for label, data, name, ctype in (
        ("docx", docx_bomb(big), "brief.docx", DOCX_TYPE),
        ("odt", docx_bomb(big), "brief.odt", "application/vnd.oasis.opendocument.text"),
        ("asic", asic_bomb(big), "verzoek.asice", "application/vnd.etsi.asic-e+zip"),
    ):
        for how, body in (("attached", REQUEST_NL), ("letter", COVERING_NOTE)):
            yield Hostile("zip-bomb", f"{label}-{how}", mail(
                body, subject="Inzage", number=numbered(), attachments=[(name, ctype, data)]))
        yield Hostile("zip-bomb", f"{label}-octet", mail(
            REQUEST_NL, number=numbered(),
            attachments=[(name, "application/octet-stream", data)]))
        yield Hostile("zip-bomb", f"{label}-forwarded", forwarded(mail(
            COVERING_NOTE, number=numbered(), attachments=[(name, ctype, data)]), numbered()))
    for refs in (51, 60, 200, 1_000, 5_200, 20_000):
        yield Hostile("xml-refs", f"xml-{refs}", mail(
            REQUEST_NL, number=numbered(),
            attachments=[("verzoek.xml", "application/xml", many_references_xml(refs))]))
    png = png_bomb(30_000 if scale >= 0.5 else 20_000)
    for how, wrap in (("attached", lambda m: m), ("forwarded", forwarded)):
        for name, ctype in (("id.png", "image/png"), ("scan", "application/octet-stream")):
            yield Hostile("image-bomb", f"png-{how}-{ctype.split('/')[0]}", wrap(mail(
                REQUEST_NL, number=numbered(), attachments=[(name, ctype, png)])))
    for refs, pad in ((2_000, 8 << 20), (2_000, 1 << 20), (500, 0)):
        yield Hostile("xml-refs", f"asic-{refs}-{pad >> 20}mb", mail(
            REQUEST_NL, number=numbered(), attachments=[(
                "verzoek.asice", "application/vnd.etsi.asic-e+zip",
                asic_many_references(refs, pad))]))
    yield Hostile("cms", "same-name-cas-1000", cms_same_name_cas(1_000))
    yield Hostile("cms", "same-name-cas-200", cms_same_name_cas(200))
    for kind in ("file", "network", "laughs"):
        for ctype in ("application/xml", "text/xml"):
            yield Hostile("xxe", f"{kind}-{ctype.split('/')[0]}", mail(
                REQUEST_NL, number=numbered(),
                attachments=[("verzoek.xml", ctype, xxe_xml(kind))]))
    for address in (AGO, AGO.upper(), "DPO.AGO@Vlaanderen.be", "dpo.wse@vlaanderen.be",
                    "dpo.ago+loop@vlaanderen.be"):
        for extra in ({}, {"Reply-To": "jan.peeters@example.be"},
                      {"Sender": "jan.peeters@example.be"}):
            yield Hostile("own-address", f"{address}-{'-'.join(extra) or 'plain'}", mail(
                REQUEST_NL, subject="Inzage", sender=("DPO", address), number=numbered(),
                extra=extra))
    for chars in (5_000, 2_000, 20_000, 1_000, 10_000):
        yield Hostile("subject", f"garbage-{chars}", mail(
            REQUEST_NL, subject=garbage_subject(chars), number=numbered()))
    for variant in range(12):
        yield Hostile("header-injection", f"v{variant}", header_injection(variant))
    for depth in (50, 200, 1_000):
        yield Hostile("mime-bomb", f"deep-{depth}", deep_mime(depth))
    for depth in (8, 16):
        yield Hostile("mime-bomb", f"forwards-{depth}", nested_messages(depth))
    for parts in (1_000, 5_000, 20_000):
        yield Hostile("mime-bomb", f"parts-{parts}", many_parts(parts))
    for kind in ("nest", "wide", "entities"):
        yield Hostile("html-bomb", kind, html_bomb(kind))
    for i in range(10):
        yield Hostile("normal", f"request-{i}", mail(
            REQUEST_NL.replace("Jan Peeters", f"Jan Peeters {i}"), subject=f"Inzage {i}",
            sender=(f"Jan Peeters {i}", f"jan.peeters{i}@example.be"), number=numbered()),
            normal=True)


def write(out: Path, scale: float = 1.0) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, item in enumerate(corpus(scale)):
        path = out / f"{index:03d}-{item.name.replace('/', '_').replace('@', '_at_')}.eml"
        path.write_bytes(item.raw)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    paths = write(args.out, args.scale)
    print(f"{len(paths)} messages in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
