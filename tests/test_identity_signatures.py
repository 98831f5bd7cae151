"""Electronic signatures as identity evidence: S/MIME, signed PDFs, PGP, XAdES/ASiC, trust anchors.

Every signature here is made at test time with the fictional PKI of tests/pki.py (RSA and ECC
P-384, shaped like the Belgian eID one) and checked by the real detector: pyHanko, signxml and
cryptography run for real; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from pyhanko_certvalidator import CertificateValidator, ValidationContext

from intake.identity import IdentityChecker
from intake.identity.certinfo import cert_facts
from intake.identity.dmarc import dmarc_failed
from intake.identity.pgp import inline_pgp
from intake.identity.signatures import SignatureDetector
from intake.identity.trust import load_anchors
from intake.message import parse_message
from tests import mailgen
from tests import signedgen as gen
from tests.pki import TestPKI, anchors_dir, national_number, shared_pki, untrusted_pki

BELGIAN_EID = (Path(os.environ.get("INTAKE_SHARED_DIR", Path(__file__).resolve().parents[2]
                                   / "shared")) / "trust" / "belgium-eid")
SALT = b"test-installation-salt"
NUMBER = national_number()  # 85073003328, fictional, passes mod-97


@pytest.fixture(scope="module")
def rsa() -> TestPKI:
    return shared_pki("rsa")


@pytest.fixture(scope="module")
def ecc() -> TestPKI:
    return shared_pki("ec")


@pytest.fixture(scope="module", params=["rsa", "ec"])
def pki(request) -> TestPKI:
    return shared_pki(request.param)


@pytest.fixture(scope="module")
def anchors(tmp_path_factory, rsa, ecc) -> Path:
    return anchors_dir(tmp_path_factory.mktemp("anchors"), rsa, ecc)


@pytest.fixture(scope="module")
def detector(anchors) -> SignatureDetector:
    return SignatureDetector(anchors, number_salt=SALT)


def only(detector: SignatureDetector, raw: bytes):
    found = detector(parse_message(raw))
    assert len(found) == 1, found
    return found[0]


# --- S/MIME ----------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["application/pkcs7-signature",
                                      "application/x-pkcs7-signature"])
def test_smime_from_trusted_eid_shaped_chain_is_verified(detector, pki, protocol):
    signer = pki.signature_cert(number=NUMBER)
    found = only(detector, gen.smime_signed_mail(signer, pki, protocol=protocol))
    assert found.status == "verified_signature"
    assert (found.type, found.valid, found.trusted, found.qualified) == ("smime", True, True, True)
    assert found.signer == "Jan Maria Peeters"
    assert found.masked_number == "85.07.30-***.**"
    assert found.number_hash == hmac.new(SALT, NUMBER.encode(), hashlib.sha256).hexdigest()
    assert NUMBER not in repr(found) and NUMBER not in found.detail
    assert found.name_match is True
    assert found.attachment == "smime.p7s"
    assert "Citizen CA → Belgium Test Root CA" in found.detail


@pytest.mark.parametrize("x_type", [False, True])
def test_opaque_signed_data_is_verified(detector, pki, x_type):
    found = only(detector, gen.opaque_signed_mail(pki.signature_cert(), pki, x_type=x_type))
    assert found.status == "verified_signature", found.detail
    assert "opaque" in found.detail


def test_body_changed_after_signing_is_invalid(detector, rsa):
    found = only(detector, gen.smime_signed_mail(rsa.signature_cert(), rsa, tamper=True))
    assert found.status == "invalid_signature"
    assert not found.valid and not found.qualified
    assert "changed after signing" in found.detail


def test_lf_stored_message_is_checked_on_its_crlf_canonical_form(detector, ecc):
    raw = gen.smime_signed_mail(ecc.signature_cert(), ecc, lf_line_ends=True)
    assert b"\r\n" not in raw
    found = only(detector, raw)
    assert found.status == "verified_signature"
    assert "CRLF" in found.detail


def test_untrusted_root_gives_unverified(detector):
    other = untrusted_pki("rsa")
    found = only(detector, gen.smime_signed_mail(other.signature_cert(), other))
    assert found.status == "unverified_signature"
    assert found.valid and not found.trusted and not found.qualified
    assert "no chain to a configured trust anchor" in found.detail
    assert found.signer == "Jan Maria Peeters"  # still reported, for staff to judge


def test_no_anchors_trusts_nothing_and_says_so_once(tmp_path, rsa, caplog):
    caplog.set_level(logging.WARNING, logger="intake")
    detector = SignatureDetector(tmp_path / "missing", number_salt=SALT)
    raw = gen.smime_signed_mail(rsa.signature_cert(), rsa)
    first, second = detector(parse_message(raw)), detector(parse_message(raw))
    assert [e.status for e in first + second] == ["unverified_signature"] * 2
    assert "no trust anchors configured" in first[0].detail
    warnings = [r for r in caplog.records if r.getMessage() == "trust anchors missing"]
    assert len(warnings) == 1


def test_certificate_expired_before_signing_is_not_verified(detector, rsa):
    now = datetime.now(UTC)
    expired = rsa.signature_cert(not_before=now - timedelta(days=800),
                                 not_after=now - timedelta(days=1))
    found = only(detector, gen.smime_signed_mail(expired, rsa))
    assert found.status == "unverified_signature"
    assert "not valid at signing time" in found.detail


def test_validity_is_judged_at_the_signing_time(anchors, ecc):
    signer = ecc.signature_cert()
    raw = gen.smime_signed_mail(signer, ecc)
    later = signer.cert.not_valid_after_utc + timedelta(days=30)
    # Checked a month after the certificate expired: it was valid when the mail was signed.
    assert only(SignatureDetector(anchors, now=later), raw).status == "verified_signature"
    # A signing time in the detector's future is not believed: checked at "now" instead.
    before = signer.cert.not_valid_before_utc - timedelta(days=1)
    found = only(SignatureDetector(anchors, now=lambda: before), raw)
    assert found.status == "unverified_signature"


def test_authentication_certificate_is_not_a_signature(detector, rsa):
    auth = rsa.signature_cert(non_repudiation=False)
    found = only(detector, gen.smime_signed_mail(auth, rsa))
    assert found.status == "unverified_signature"
    assert found.trusted and "nonRepudiation" in found.detail


def test_non_qualified_certificate_is_verified_but_not_qualified(detector, ecc):
    found = only(detector, gen.smime_signed_mail(ecc.signature_cert(qc=()), ecc))
    assert found.status == "verified_signature"
    assert found.qualified is False and "no qcStatements" in found.detail


def test_name_mismatch_with_sender_is_reported(detector, rsa):
    raw = gen.smime_signed_mail(rsa.signature_cert(), rsa,
                                sender=("Sofie Janssens", "sofie@example.be"))
    found = only(detector, raw)
    assert found.status == "verified_signature" and found.name_match is False


def test_signed_mail_inside_a_forward_is_found(detector, ecc):
    inner = gen.smime_signed_mail(ecc.signature_cert(), ecc)
    raw = (
        b"From: Dienst <dienst@example.be>\r\nTo: dpo.ago@vlaanderen.be\r\nSubject: Fwd\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fw\"\r\n\r\n"
        b"--fw\r\nContent-Type: text/plain\r\n\r\nDoorgestuurd.\r\n"
        b"--fw\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--fw--\r\n"
    )
    assert only(detector, raw).status == "verified_signature"


def test_signed_mail_carrying_a_signed_pdf_gives_two_findings(detector, rsa):
    signer = rsa.signature_cert()
    pdf = gen.signed_pdf(signer, rsa)
    raw = gen.smime_signed_mail(signer, rsa, attachments=(("verzoek.pdf", "application/pdf", pdf),))
    found = detector(parse_message(raw))
    assert sorted((e.type, e.status) for e in found) == [
        ("pdf_signature", "verified_signature"), ("smime", "verified_signature")]
    assert next(e for e in found if e.type == "pdf_signature").sha256 == \
        hashlib.sha256(pdf).hexdigest()


# --- malformed input: a finding, never an exception --------------------------------------------

def _swap_signature(raw: bytes, new_b64: bytes) -> bytes:
    head, _, rest = raw.partition(b'filename="smime.p7s"\r\n\r\n')
    _, _, tail = rest.partition(b"\r\n\r\n--")
    return head + b'filename="smime.p7s"\r\n\r\n' + new_b64 + b"\r\n\r\n--" + tail


@pytest.mark.parametrize("blob", [
    base64.b64encode(os.urandom(600)),  # not DER at all
    base64.b64encode(b"\x30\x82\xff\xff" + os.urandom(40)),  # DER header, truncated body
    b"!!!! not base64 !!!!",
], ids=["random-bytes", "truncated-der", "not-base64"])  # fixed ids: the blobs are random
def test_garbage_signature_is_invalid_not_a_crash(detector, rsa, blob):
    raw = _swap_signature(gen.smime_signed_mail(rsa.signature_cert(), rsa), blob)
    found = only(detector, raw)
    assert found.status == "invalid_signature"
    assert "unreadable" in found.detail


def test_multipart_signed_without_signature_part_is_invalid(detector):
    raw = (b"From: a@example.be\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
           b" boundary=\"b\"\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nHallo\r\n--b--\r\n")
    found = only(detector, raw)
    assert found.status == "invalid_signature" and "1 body parts" in found.detail


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj << /ByteRange [0 10 20 30] /Contents <00> >> endobj\n%%EOF",
    b"%PDF-1.7\n" + os.urandom(3000) + b"/ByteRange",
])
def test_broken_pdf_with_signature_marker_is_a_finding(detector, data):
    found = only(detector, gen.mail_with_attachment("verzoek.pdf", "application/pdf", data))
    assert found.type == "pdf_signature" and found.status == "invalid_signature"


def test_unsigned_pdf_and_garbage_container_and_deep_nesting(detector):
    plain = gen.mail_with_attachment("brief.pdf", "application/pdf", gen.minimal_pdf("Brief"))
    assert detector(parse_message(plain)) == []
    junk = gen.mail_with_attachment("x.asice", "application/vnd.etsi.asic-e+zip",
                                    b"PK\x03\x04" + os.urandom(500))
    assert only(detector, junk).status == "invalid_signature"
    nested = b"From: a@example.be\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    for depth in range(300):
        nested += (b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n"
                   % (depth, depth))
    assert detector(parse_message(nested + b"Content-Type: text/plain\r\n\r\nx\r\n")) == []


# --- PDF -------------------------------------------------------------------------------------

def test_signed_pdf_intact_modified_and_untrusted(detector, pki):
    signer = pki.signature_cert(number=NUMBER)
    intact = only(detector, gen.mail_with_attachment(
        "verzoek.pdf", "application/pdf", gen.signed_pdf(signer, pki)))
    assert intact.status == "verified_signature", intact.detail
    assert (intact.type, intact.attachment, intact.qualified) == ("pdf_signature", "verzoek.pdf",
                                                                  True)
    assert intact.masked_number == "85.07.30-***.**"

    modified = only(detector, gen.mail_with_attachment(
        "verzoek.pdf", "application/pdf", gen.signed_pdf(signer, pki, modified=True)))
    assert modified.status == "invalid_signature"
    assert "modified after signing" in modified.detail

    other = untrusted_pki(pki.kind)
    untrusted = only(detector, gen.mail_with_attachment(
        "verzoek.pdf", "application/pdf", gen.signed_pdf(other.signature_cert(), other)))
    assert untrusted.status == "unverified_signature"


def test_encrypted_pdf_is_checked_when_it_opens_without_password(detector, rsa):
    signer = rsa.signature_cert()
    open_pdf = gen.encrypted_signed_pdf(signer, rsa)
    assert only(detector, gen.mail_with_attachment(
        "v.pdf", "application/pdf", open_pdf)).status == "verified_signature"
    locked = only(detector, gen.mail_with_attachment(
        "v.pdf", "application/pdf", gen.encrypted_signed_pdf(signer, rsa, "geheim")))
    assert locked.status == "unverified_signature" and "password" in locked.detail


# --- PGP and XAdES / ASiC --------------------------------------------------------------------

def test_pgp_mime_is_detected_as_unverified(detector):
    found = only(detector, gen.pgp_signed_mail())
    assert (found.type, found.status) == ("pgp", "unverified_signature")
    assert "PGP/MIME" in found.detail and "pgp-sha256" in found.detail
    broken = only(detector, gen.pgp_signed_mail(broken=True))
    assert broken.status == "invalid_signature"


def test_inline_pgp_is_detected():
    block = gen.fake_pgp_signature()
    text = b"-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nInzage aub.\r\n" + block
    found = inline_pgp(text)
    assert found is not None and found.status == "unverified_signature"
    assert inline_pgp(b"gewone tekst") is None


def test_asice_container_is_checked_with_signxml(detector, pki):
    signer = pki.signature_cert(number=NUMBER)
    intact = only(detector, gen.mail_with_attachment(
        "verzoek.asice", "application/vnd.etsi.asic-e+zip", gen.asice_container(signer, pki)))
    assert (intact.type, intact.status, intact.valid) == ("xades", "unverified_signature", True)
    assert intact.signer == "Jan Maria Peeters" and intact.masked_number == "85.07.30-***.**"
    assert "verzoek.xml" in intact.detail and "signature intact" in intact.detail

    tampered = only(detector, gen.mail_with_attachment(
        "verzoek.sce", "application/octet-stream", gen.asice_container(signer, pki, tamper=True)))
    assert tampered.status == "invalid_signature"
    assert "Digest mismatch" in tampered.detail


# --- the identity stage and DMARC -------------------------------------------------------------

def test_identity_checker_reports_the_strongest_evidence(detector, rsa):
    checker = IdentityChecker(detectors=[detector])
    signer = rsa.signature_cert()
    assert checker.assess(parse_message(gen.smime_signed_mail(signer, rsa))).status == \
        "verified_signature"
    other = untrusted_pki("rsa")
    pdf = gen.signed_pdf(other.signature_cert(), other)
    raw = gen.smime_signed_mail(signer, rsa, tamper=True,
                                attachments=(("v.pdf", "application/pdf", pdf),))
    finding = checker.assess(parse_message(raw))
    assert finding.status == "unverified_signature"
    assert sorted(e["type"] for e in finding.to_json()["evidence"]) == ["pdf_signature", "smime"]


@pytest.mark.parametrize(("header", "failed"), [
    ("mx.vlaanderen.be; spf=pass smtp.mailfrom=example.be; dmarc=fail (p=reject) "
     "header.from=example.be", True),
    ("mx.vlaanderen.be; DMARC=FAIL header.from=example.be", True),
    ("mx.vlaanderen.be; dkim=pass; dmarc=pass header.from=example.be", False),
    ("mx.vlaanderen.be; dmarc=pass (was dmarc=fail upstream) header.from=example.be", False),
    (None, False),
])
def test_dmarc_failed(header, failed):
    extra = {"Authentication-Results": header} if header else None
    raw = gen.mail_with_attachment("a.txt", "text/plain", b"x", extra_headers=extra)
    assert dmarc_failed(parse_message(raw)) is failed


# --- trust anchors -----------------------------------------------------------------------------

def test_anchor_directory_reads_pem_bundles_and_der_and_skips_junk(tmp_path, rsa, ecc, caplog):
    caplog.set_level(logging.WARNING, logger="intake")
    (tmp_path / "bundle.pem").write_bytes(rsa.root.pem + rsa.citizen_ca.pem)
    (tmp_path / "ecc.cer").write_bytes(ecc.root.cert.public_bytes(serialization.Encoding.DER))
    (tmp_path / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                                          b"-----END CERTIFICATE-----\n")
    (tmp_path / "README.txt").write_text("not a certificate")
    loaded = load_anchors(tmp_path)
    assert sorted(c.subject.native["common_name"] for c in loaded.roots) == [
        "Belgium Test Root CA EC", "Belgium Test Root CA RSA"]
    assert [c.subject.native["common_name"] for c in loaded.intermediates] == ["Citizen CA"]
    assert any(getattr(r, "file", None) == "broken.pem" for r in caplog.records)


def test_cert_facts_semantics_identifier_and_bad_number(rsa):
    def facts(number: str):
        cert = rsa.signature_cert(number=number).cert
        return cert_facts(asn1_x509.Certificate.load(
            cert.public_bytes(serialization.Encoding.DER)), SALT)

    assert facts(f"PNOBE-{NUMBER}").masked_number == "85.07.30-***.**"
    assert facts("85073003399").masked_number is None  # fails mod-97: not a national number
    assert facts("PNONL-123456789").masked_number is None


# --- the real public Belgian eID CAs (read from ../shared, never copied into the repo) ---------

@pytest.fixture(scope="module")
def real_eid() -> Path:
    if not any(BELGIAN_EID.glob("*.pem")):
        pytest.skip(f"public Belgian eID CA certificates not found in {BELGIAN_EID}")
    return BELGIAN_EID


def _real(real_eid: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((real_eid / name).read_bytes())


def test_real_belgian_roots_load_as_anchors(real_eid):
    loaded = load_anchors(real_eid)
    roots = {c.subject.native["common_name"]: c for c in loaded.roots}
    assert {"Belgium Root CA2", "Belgium Root CA3", "Belgium Root CA4",
            "Belgium Root CA6"} <= set(roots)
    assert roots["Belgium Root CA4"].public_key.algorithm == "rsa"
    assert roots["Belgium Root CA6"].public_key.algorithm == "ec"
    assert roots["Belgium Root CA6"].public_key.curve[1] == "secp384r1"
    assert sorted(c.subject.native["common_name"] for c in loaded.intermediates) == [
        "Citizen CA", "Foreigner CA"]


def test_real_citizen_ca_chains_to_real_root_ca6(real_eid):
    roots = load_anchors(real_eid)
    citizen = next(c for c in roots.intermediates
                   if c.subject.native["common_name"] == "Citizen CA")
    context = ValidationContext(trust_roots=list(roots.roots), allow_fetching=False,
                                revocation_mode="soft-fail",
                                moment=datetime(2026, 1, 1, tzinfo=UTC))
    path = asyncio.run(CertificateValidator(citizen, validation_context=context)
                       .async_validate_usage({"key_cert_sign"}))
    assert [c.subject.native["common_name"] for c in path.iter_certs(include_root=True)] == [
        "Belgium Root CA6", "Citizen CA"]


def test_chain_with_the_real_eid_names_is_handled(real_eid, tmp_path):
    mirror = TestPKI("ec", root_name=_real(real_eid, "belgiumrca6.pem").subject,
                     ca_name=_real(real_eid, "CitizenCA202002.pem").subject)
    raw = gen.smime_signed_mail(mirror.signature_cert(number=NUMBER), mirror)

    trusted = only(SignatureDetector(anchors_dir(tmp_path / "mirror", mirror)), raw)
    assert trusted.status == "verified_signature"
    assert "Citizen CA → Belgium Root CA6" in trusted.detail

    # The real anchors know these names but not this key: a look-alike chain is not trusted.
    real_only = only(SignatureDetector(real_eid), raw)
    assert real_only.status == "unverified_signature"

    # Both in one directory (two roots named "Belgium Root CA6"): the right one is found.
    both = tmp_path / "both"
    both.mkdir()
    for pem in real_eid.glob("*.pem"):
        (both / pem.name).write_bytes(pem.read_bytes())  # tmp only, never the repo
    anchors_dir(both, mirror)
    assert only(SignatureDetector(both), raw).status == "verified_signature"


def test_encrypted_smime_is_not_a_signature(detector, rsa):
    der = (pkcs7.PKCS7EnvelopeBuilder().set_data(b"Content-Type: text/plain\r\n\r\nGeheim\r\n")
           .add_recipient(rsa.signature_cert().cert).encrypt(serialization.Encoding.DER, []))
    raw = gen.mail_with_attachment("smime.p7m", "application/pkcs7-mime", der)
    assert detector(parse_message(raw)) == []


def test_unsigned_mail_finds_nothing(detector):
    for seed, raw in enumerate(mailgen.backlog(40, seed=7)):
        assert detector(parse_message(raw)) == [], seed


def test_without_salt_the_number_is_masked_but_not_hashed(anchors, rsa):
    found = only(SignatureDetector(anchors), gen.smime_signed_mail(rsa.signature_cert(), rsa))
    assert found.masked_number == "85.07.30-***.**" and found.number_hash is None


@pytest.mark.parametrize("cte", ["7bit", "base64", "quoted-printable"])
def test_inline_pgp_in_a_body_is_found_whatever_its_encoding(detector, cte):
    from email.message import EmailMessage

    block = gen.fake_pgp_signature().decode()
    msg = EmailMessage()
    msg["From"] = "Eva Claes <eva.claes@example.be>"
    msg["To"] = "dpo.ago@vlaanderen.be"
    msg["Subject"] = "Inzage"
    msg.set_content("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nInzage aub.\n" + block,
                    cte=cte)
    found = only(detector, bytes(msg))
    assert (found.type, found.status) == ("pgp", "unverified_signature")


def test_plain_mail_is_not_walked(detector, caplog):
    from tests.mailgen import request

    caplog.set_level(logging.INFO, logger="intake.identity.signatures")
    assert detector(parse_message(request("access", "nl", seed=3))) == []
    assert not [r for r in caplog.records if r.getMessage() == "signatures checked"]
