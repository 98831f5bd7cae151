"""The sandbox: untrusted attachments decoded in a child process with hard limits (issue 13).

Real child processes, real pdfium / pypdf / zipfile on files of tests/hostilegen.py; the limits
are small so a test takes seconds. Nothing is mocked.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from intake.identity import IdentityChecker
from intake.identity.id_documents import IdDocumentDetector
from intake.identity.images import Limits, Source
from intake.mailtext.letters import read_letter
from intake.message import Attachment, parse_message
from intake.untrusted.capped import (
    MAX_PDF_STREAM,
    TooLarge,
    check_pdf_streams,
    read_member,
    render_scale,
)
from intake.untrusted.sandbox import LimitReached, Sandbox, SandboxLimits
from tests import hostilegen as gen

SMALL = SandboxLimits(memory_mb=384, cpu_seconds=5, wall_seconds=3.0, message_seconds=5.0)
BOMB = MAX_PDF_STREAM + (16 << 20)  # just over the cap: quick to build, still refused


@pytest.fixture
def sandbox():
    box = Sandbox(SMALL)
    yield box
    box.stop()


def _source(data: bytes, name: str = "scan.pdf", ctype: str = "application/pdf") -> Source:
    return Source(name=name, sha256="0" * 64, data=data, content_type=ctype)


def _message_with(data: bytes, name: str, ctype: str, body: str = gen.REQUEST_NL):
    return parse_message(gen.mail(body, attachments=[(name, ctype, data)]))


# --- the mechanism --------------------------------------------------------------------------

def test_mail_without_attachments_starts_no_child() -> None:
    box = Sandbox(SMALL)
    detector = IdDocumentDetector(sandbox=box)
    msg = parse_message(gen.mail())
    assert detector(msg) == []
    assert box.started == 0 and box.pid is None


def test_child_is_reused_and_answers_in_json(sandbox) -> None:
    assert sandbox.call("ping") == "pong"
    pid = sandbox.pid
    for _ in range(20):
        sandbox.call("ping")
    assert sandbox.pid == pid and sandbox.started == 1


def test_nested_form_xobjects_hit_a_limit_and_the_next_file_is_read(sandbox) -> None:
    """Finding 3: fan-out 10, depth 9 ran to 11.4 GB and SIGABRT in-process."""
    detector = IdDocumentDetector(sandbox=sandbox)
    started = time.monotonic()
    msg = _message_with(gen.nested_forms_pdf(10, 9), "identiteitskaart.pdf", "application/pdf")
    found = detector(msg)
    assert time.monotonic() - started < SMALL.wall_seconds + 4
    assert len(found) == 1 and found[0].status == "none" and not found[0].valid
    assert found[0].detail.startswith("not examined: limit reached")
    # the killed child was replaced: the next attachment is examined normally
    ok = detector(_message_with(_png(), "id.png", "image/png"))
    assert all(not e.detail.startswith("not examined") for e in ok)
    assert sandbox.started == 2


def test_cpu_limit_kills_the_child() -> None:
    box = Sandbox(SandboxLimits(memory_mb=1024, cpu_seconds=1, wall_seconds=20.0))
    try:
        with pytest.raises(LimitReached) as caught:
            box.call("id_examine", _source(gen.nested_forms_pdf(10, 6)), "", None, Limits(),
                     "eng", 20.0, 12)
        assert "CPU" in caught.value.reason
    finally:
        box.stop()


def test_memory_limit_is_a_limit_not_a_finding_about_the_file() -> None:
    box = Sandbox(SandboxLimits(memory_mb=300, cpu_seconds=20, wall_seconds=20.0))
    try:
        with pytest.raises(LimitReached) as caught:
            box.call("id_examine", _source(gen.nested_forms_pdf(10, 9)), "", None, Limits(),
                     "eng", 20.0, 12)
        assert caught.value.reason.startswith("limit reached")
        assert box.call("ping") == "pong"  # a new child
    finally:
        box.stop()


def test_message_budget_is_shared_by_its_attachments() -> None:
    # Enough memory that the nested forms run until the wall-time limit stops them.
    sandbox = Sandbox(SandboxLimits(memory_mb=768, cpu_seconds=10, wall_seconds=3.0,
                                    message_seconds=5.0))
    detector = IdDocumentDetector(sandbox=sandbox)
    slow = gen.nested_forms_pdf(10, 6)  # runs until stopped (CPU-bound, little memory)
    msg = parse_message(gen.mail(attachments=[
        ("a.pdf", "application/pdf", slow), ("b.pdf", "application/pdf", slow + b" "),
        ("c.pdf", "application/pdf", slow + b"  ")]))
    started = time.monotonic()
    with sandbox.message():
        found = detector(msg)
    assert time.monotonic() - started < 5.0 + 4
    assert len(found) == 3
    assert all(e.detail.startswith("not examined: limit reached") for e in found)
    assert found[0].detail == "not examined: limit reached: more than 3 s"
    assert "message's 5 s for attachments were used up" in found[-1].detail
    sandbox.stop()


def test_checker_with_sandbox_keeps_findings_of_normal_files(sandbox) -> None:
    checker = IdentityChecker(detectors=[IdDocumentDetector(sandbox=sandbox)])
    finding = checker.assess(_message_with(_png(), "foto.png", "image/png"))
    assert finding.status == "none"  # a plain picture: nothing ID-like, and no error
    assert all("limit" not in e.detail for e in finding.evidence)


# --- capped decompression (finding 4) -------------------------------------------------------

def test_zip_member_is_read_with_a_cap_whatever_it_declares() -> None:
    bomb = gen.lying_zip([("word/media/image1.png", None, 24 << 20)])
    archive = zipfile.ZipFile(io.BytesIO(bomb))
    info = archive.infolist()[0]
    assert info.file_size == 1024  # the lie
    with pytest.raises((TooLarge, zipfile.BadZipFile)):
        read_member(archive, info, 10 << 20)
    honest = io.BytesIO()
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("big.bin", b"\0" * (12 << 20))
    archive = zipfile.ZipFile(honest)
    with pytest.raises(TooLarge):
        read_member(archive, archive.infolist()[0], 10 << 20)


def test_docx_zip_bomb_letter_is_not_examined() -> None:
    attachment = Attachment("brief.docx", gen.DOCX_TYPE, 0, gen.docx_bomb(60 << 20))
    letter = read_letter(attachment)
    assert letter.text == ""
    assert "unpacks to more than" in letter.note or "unreadable" in letter.note


@pytest.mark.parametrize("make", [gen.flate_bomb_pdf, gen.object_stream_bomb_pdf])
def test_pdf_stream_bombs_are_refused_before_any_pdf_library(make) -> None:
    data = make(BOMB)
    started = time.monotonic()
    with pytest.raises(TooLarge):
        check_pdf_streams(data)
    assert time.monotonic() - started < 5
    letter = read_letter(Attachment("brief.pdf", "application/pdf", len(data), data))
    assert "not examined: a compressed PDF stream inflates to more than" in letter.note
    found = IdDocumentDetector().examine(_source(data))
    assert found and "inflates to more than" in found[0].detail


def test_normal_pdf_streams_pass_the_check() -> None:
    check_pdf_streams(gen.nested_forms_pdf(10, 2))
    check_pdf_streams(gen.flate_bomb_pdf(MAX_PDF_STREAM - (1 << 20)))


def test_huge_mediabox_is_rendered_within_the_pixel_cap() -> None:
    """A 14,400 pt page at 200 dpi would be 1.6 gigapixels (4.8 GB); the scale is lowered."""
    scale = render_scale(14_400, 14_400, 200, 8_000_000)
    assert (14_400 * scale) ** 2 <= 8_000_001
    assert render_scale(595, 842, 200, 8_000_000) == pytest.approx(200 / 72)
    data = gen.huge_mediabox_scan()
    # The whole scanned-letter path (no text layer: render, then OCR) in 384 MB of address
    # space: without the cap the render alone needs 1.6 GB.
    box = Sandbox(SandboxLimits(memory_mb=384, cpu_seconds=30, wall_seconds=30.0))
    try:
        answer = box.call("letter", Attachment("scan.pdf", "application/pdf", len(data), data),
                          True)
    finally:
        box.stop()
    assert "no text layer" in answer["note"]
    assert "MemoryError" not in answer["note"] and "limit" not in answer["note"]


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (300, 200), 230).save(buffer, "PNG")
    return buffer.getvalue()


# --- the same findings through the sandbox as in-process ------------------------------------

def test_signatures_verify_the_same_in_the_sandbox(tmp_path) -> None:
    """S/MIME (detached and opaque), a signed PDF and an ASiC container: the evidence that
    comes back from the child (as JSON) equals the in-process evidence."""
    from datetime import UTC, datetime

    from intake.identity.signatures import SignatureDetector
    from tests import signedgen
    from tests.pki import anchors_dir, shared_pki

    pki = shared_pki("rsa")
    anchors = anchors_dir(tmp_path, pki)
    signer = pki.signature_cert()
    now = datetime.now(UTC)
    messages = [
        signedgen.smime_signed_mail(signer, pki, attachments=(
            ("verzoek.pdf", "application/pdf", signedgen.signed_pdf(signer, pki)),)),
        signedgen.opaque_signed_mail(signer, pki),
        signedgen.mail_with_attachment("verzoek.asice", "application/vnd.etsi.asic-e+zip",
                                       signedgen.asice_container(signer, pki)),
    ]
    box = Sandbox(SandboxLimits(wall_seconds=20.0))
    try:
        inside = SignatureDetector(anchors, b"salt", now=now, sandbox=box)
        outside = SignatureDetector(anchors, b"salt", now=now)
        for raw in messages:
            msg = parse_message(raw)
            assert inside(msg) == outside(msg)
        statuses = {e.status for raw in messages for e in inside(parse_message(raw))}
        assert "verified_signature" in statuses
        assert box.started == 1
    finally:
        box.stop()


def test_child_gets_no_secrets_no_core_files_and_its_limits(monkeypatch) -> None:
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", "geheim-wachtwoord")
    box = Sandbox(SandboxLimits(memory_mb=400))
    try:
        assert box.call("ping") == "pong"
        pid = box.pid
        with open(f"/proc/{pid}/environ", "rb") as env:
            assert b"geheim-wachtwoord" not in env.read()
        with open(f"/proc/{pid}/limits") as limits:
            rows = {line[:26].strip(): line[26:].split() for line in limits}
        assert rows["Max core file size"][:2] == ["0", "0"]
        assert rows["Max address space"][0] == str(400 << 20)
    finally:
        box.stop()
