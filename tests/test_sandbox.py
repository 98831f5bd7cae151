"""The sandbox: untrusted attachments decoded in a child process with hard limits (issue 13).

Real child processes, real pdfium / pypdf / zipfile on files of tests/hostilegen.py; the limits
are small so a test takes seconds. Nothing is mocked.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
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
from intake.untrusted.sandbox import LimitReached, Sandbox, SandboxLimits, tree_resident
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


def _peak_while(box: Sandbox, call) -> tuple[int, object]:
    """The peak resident memory of the sandbox's child and its children during `call()`."""
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            pid = box.pid
            if pid:
                peak[0] = max(peak[0], tree_resident(pid))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result: object = call()
    except LimitReached as exc:
        result = exc
    finally:
        done.set()
        watcher.join()
    return peak[0], result


def test_resident_limit_counts_the_child_and_its_ocr_together() -> None:
    """RLIMIT_AS bounds each process alone; the resident limit is watched from the worker over
    the child and everything it started (Tesseract), and kills them all past it."""
    box = Sandbox(SandboxLimits(memory_mb=2048, resident_mb=200, cpu_seconds=30,
                                wall_seconds=30.0))
    try:
        peak, result = _peak_while(box, lambda: box.call(
            "id_examine", _source(gen.nested_forms_pdf(10, 9)), "", None, Limits(), "eng",
            30.0, 12))
        assert isinstance(result, LimitReached)
        assert result.reason == ("limit reached: more than 200 MB of memory (the decoder and "
                                 "its OCR together)")
        assert peak < (200 + 100) << 20  # what a decoder can add in one 50 ms look, at most
        assert box.call("ping") == "pong"  # its successor works
    finally:
        box.stop()


def test_default_limits_hold_the_child_to_its_share_of_600_mb() -> None:
    """Issue 13: worker and child together ≤ 600 MB. The worker holds ~300 MB (classifier);
    the child's share is its address space (320 MB) and, with its Tesseract, 240 MB resident.
    The depth-9 PDF ran the child to ~400 MB under the former 512 MB limit."""
    limits = SandboxLimits()
    assert (limits.memory_mb, limits.resident_bytes >> 20) == (320, 240)
    box = Sandbox(limits)
    try:
        for pdf in (gen.nested_forms_pdf(10, 9), gen.nested_forms_pdf(20, 5)):
            started = time.monotonic()
            peak, result = _peak_while(box, lambda pdf=pdf: box.call(
                "id_examine", _source(pdf), "", None, Limits(), "eng", 20.0, 12))
            assert isinstance(result, LimitReached), result
            assert peak <= limits.memory_mb << 20, peak >> 20
            assert time.monotonic() - started < limits.wall_seconds + 2
    finally:
        box.stop()


def test_tree_resident_counts_children_and_not_a_fork_twice() -> None:
    hog = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                            "data = bytearray(80 << 20)\nfor i in range(0, len(data), 4096):\n"
                            "    data[i] = 1\nprint('ready', flush=True)\ntime.sleep(60)"],
                           stdout=subprocess.PIPE)
    try:
        assert hog.stdout is not None and hog.stdout.readline() == b"ready\n"
        own = tree_resident(hog.pid)
        assert own >= 80 << 20
        assert tree_resident(os.getpid()) >= own + (10 << 20)  # this process and the hog
        pid = os.fork()  # a fork that has not exec'd shares this process's pages
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        try:
            total = tree_resident(os.getpid())
            assert total < tree_resident(hog.pid) + 2 * _own_rss() - (1 << 20)
        finally:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        hog.kill()
        hog.wait()


def _own_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    return 0


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
        with open(f"/proc/{pid}/oom_score_adj") as score:  # a cgroup OOM kill takes it first
            assert score.read().strip() == "1000"
    finally:
        box.stop()
