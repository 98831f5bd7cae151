"""XML signatures: ASiC containers (.asice/.sce/.bdoc, XAdES inside) and signed XML files.

The signature value and the digests of the signed files are checked with signxml; the
certificate chain is not, so an intact one is reported as "unverified_signature".
"""

from __future__ import annotations

import base64
import zipfile
from collections.abc import Callable
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from intake.identity import Evidence
from intake.identity.verdict import Check, Judge, failure
from intake.untrusted.capped import TooLarge, read_members

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
CONTAINER_SUFFIXES = (".asice", ".sce", ".asics", ".scs", ".bdoc")
ASIC_MIMETYPES = ("application/vnd.etsi.asic-e+zip", "application/vnd.etsi.asic-s+zip")
MAX_MEMBERS = 200
MAX_UNZIPPED = 50 << 20  # all members together, as inflated (never as declared)
MAX_XML = 2 << 20
MAX_SIGNATURE_XML = 4 << 20  # one signature file in a container
# A real signature references a few files; each Reference costs a canonicalisation of what it
# points to. More than this and nothing is verified (5,200 took 190 s).
MAX_REFERENCES = 50
NOT_CHECKED = "certificate chain not checked for XML signatures"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False)


def looks_like_container(name: str | None, content_type: str, data: bytes) -> bool:
    lowered = (name or "").lower()
    return data[:4] == b"PK\x03\x04" and (
        lowered.endswith(CONTAINER_SUFFIXES) or content_type in ASIC_MIMETYPES
        or any(m.encode() in data[:120] for m in ASIC_MIMETYPES)
    )


def looks_like_signed_xml(name: str | None, content_type: str, data: bytes) -> bool:
    xmlish = (name or "").lower().endswith(".xml") or content_type.endswith("xml")
    return xmlish and len(data) <= MAX_XML and DS.encode() in data and b"Signature" in data


def _signing_cert(root: etree._Element) -> x509.Certificate | None:
    node = root.find(f".//{{{DS}}}X509Certificate")
    if node is None or not node.text:
        return None
    return x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))


def _signing_time(root: etree._Element) -> datetime | None:
    node = root.find(f".//{{{XADES}}}SigningTime")
    if node is None or not node.text:
        return None
    try:
        return datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _verify(data: bytes, cert: x509.Certificate, resolvers: list[Callable | None],
            xades: bool) -> tuple[Check, str]:
    """Check the signature with each way of reading the referenced files; the first that works."""
    verifier = XAdESVerifier() if xades else XMLVerifier()
    config = (XAdESSignatureConfiguration if xades else SignatureConfiguration)(
        expect_references=True)
    outcome: tuple[bool, bool, str] = (True, True, "")
    refused = ""
    for resolver in resolvers:
        try:
            verifier.verify(data, x509_cert=cert, uri_resolver=resolver, expect_config=config)
            return Check(intact=True, valid=True, problem=NOT_CHECKED), "signature intact (signxml)"
        except InvalidDigest as exc:
            outcome = (False, True, str(exc))
        except InvalidSignature as exc:
            if outcome[0]:
                outcome = (True, False, str(exc))
        except MemoryError:  # the sandbox reports it as a limit reached
            raise
        except Exception as exc:  # refused (a DTD) or unsupported: nothing was verified
            refused = refused or f"not verified ({type(exc).__name__}: {exc})"[:200]
    intact, valid, why = outcome
    if intact and valid:  # no attempt got as far as a verdict: never report it as valid
        return Check(intact=True, valid=True, problem=NOT_CHECKED,
                     unverified=refused or "not verified"), ""
    return Check(intact=intact, valid=valid, problem=NOT_CHECKED), why


def _judge(data: bytes, what: str, resolvers: list[Callable | None], judge: Judge,
           where: dict[str, str | None]) -> Evidence:
    try:
        root = etree.fromstring(data, parser=_PARSER)
        cert = _signing_cert(root)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return failure("xades", what, f"signature XML unreadable ({type(exc).__name__})", **where)
    if cert is None:
        return Evidence(type="xades", status="unverified_signature",
                        detail=f"{what}; no signer certificate in the signature", **where)
    xades = root.find(f".//{{{XADES}}}QualifyingProperties") is not None
    references = len(root.findall(f".//{{{DS}}}Reference"))
    if references > MAX_REFERENCES:
        check, note = Check(intact=True, valid=True, unverified=(
            f"not verified: {references} References (more than {MAX_REFERENCES})")), ""
    else:
        check, note = _verify(data, cert, resolvers, xades)
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    check = Check(intact=check.intact, valid=check.valid, problem=check.problem, cert=asn1_cert,
                  signing_time=_signing_time(root), unverified=check.unverified)
    return judge.evidence(check, "xades", f"{what}, {note}" if note else what, **where)


def container_signatures(data: bytes, name: str | None, sha256: str | None,
                         judge: Judge) -> list[Evidence]:
    """Every XAdES signature file in an ASiC container, checked against the files beside it."""
    where = {"attachment": name, "sha256": sha256}
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        members = archive.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
            return [failure("xades", "ASiC container", "too many or too large members", **where)]
        # Read as streams with a hard cap: a member may declare 1 kB and inflate to gigabytes.
        files = read_members(archive, [m for m in members if not m.is_dir()], MAX_UNZIPPED,
                             MAX_UNZIPPED)
    except TooLarge as exc:
        return [Evidence(type="xades", status="unverified_signature", detail=(
            f"ASiC container; not verified: {exc}"), **where)]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        return [failure("xades", "ASiC container", f"unreadable ({type(exc).__name__})", **where)]
    signed = sorted(n for n in files if not n.startswith("META-INF/") and n != "mimetype")
    sig_files = sorted(n for n in files if n.startswith("META-INF/") and "signature" in n.lower())
    what = f"ASiC container with {len(signed)} file(s): {', '.join(signed)[:120]}"
    if not sig_files:
        return [Evidence(type="xades", status="unverified_signature",
                         detail=f"{what}; no signature file in META-INF", **where)]

    def as_bytes(uri: str) -> bytes | None:
        return files.get(uri)

    def as_xml(uri: str) -> etree._Element | None:
        try:
            return etree.fromstring(files[uri], parser=_PARSER) if uri in files else None
        except etree.XMLSyntaxError:
            return None

    found = []
    for sig_name in sig_files:
        if not sig_name.lower().endswith(".xml"):
            found.append(Evidence(type="xades", status="unverified_signature",
                                  detail=f"{what}; {sig_name} (CAdES) not checked", **where))
            continue
        if len(files[sig_name]) > MAX_SIGNATURE_XML:
            found.append(Evidence(type="xades", status="unverified_signature", detail=(
                f"{what}; {sig_name}: not verified: larger than {MAX_SIGNATURE_XML >> 20} MB"),
                **where))
            continue
        found.append(_judge(files[sig_name], f"{what}; {sig_name}", [as_bytes, as_xml], judge,
                            where))
    return found


def xml_signature(data: bytes, name: str | None, sha256: str | None,
                  judge: Judge) -> list[Evidence]:
    """A standalone XML document with an enveloped or enveloping ds:Signature."""
    where = {"attachment": name, "sha256": sha256}
    return [_judge(data, "signed XML document", [None], judge, where)]
