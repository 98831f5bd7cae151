"""Benchmark: seconds per signature check of the signature detector (prints figures).

    .venv/bin/python bench/signatures.py [-n 50]

Each case is one fictional message (tests/signedgen.py) parsed once; the clock covers the
detector call alone (MIME walk, CMS/PDF/XML validation, evidence), on one thread. Wall-clock
median and p95, and the median CPU time of the process (less sensitive to a busy machine).
Trust anchors: the test roots, plus the public Belgian eID CAs from ../shared/trust/belgium-eid
when present.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intake.identity.signatures import SignatureDetector  # noqa: E402
from intake.message import parse_message  # noqa: E402
from tests import mailgen  # noqa: E402
from tests import signedgen as gen  # noqa: E402
from tests.pki import anchors_dir, shared_pki, untrusted_pki  # noqa: E402

BELGIAN_EID = ROOT.parent / "shared" / "trust" / "belgium-eid"


def cases() -> dict[str, bytes]:
    rsa, ecc, other = shared_pki("rsa"), shared_pki("ec"), untrusted_pki("rsa")
    s_rsa, s_ecc = rsa.signature_cert(), ecc.signature_cert()
    pdf = "application/pdf"
    return {
        "S/MIME detached, RSA-2048": gen.smime_signed_mail(s_rsa, rsa),
        "S/MIME detached, ECC P-384": gen.smime_signed_mail(s_ecc, ecc),
        "S/MIME detached, LF-stored (2 passes)": gen.smime_signed_mail(s_rsa, rsa,
                                                                       lf_line_ends=True),
        "S/MIME tampered body": gen.smime_signed_mail(s_rsa, rsa, tamper=True),
        "S/MIME untrusted root": gen.smime_signed_mail(other.signature_cert(), other),
        "S/MIME opaque signed-data, ECC": gen.opaque_signed_mail(s_ecc, ecc),
        "PDF signed, RSA": gen.mail_with_attachment("v.pdf", pdf, gen.signed_pdf(s_rsa, rsa)),
        "PDF signed, ECC": gen.mail_with_attachment("v.pdf", pdf, gen.signed_pdf(s_ecc, ecc)),
        "PDF modified after signing": gen.mail_with_attachment(
            "v.pdf", pdf, gen.signed_pdf(s_rsa, rsa, modified=True)),
        "ASiC-E XAdES (signxml), ECC": gen.mail_with_attachment(
            "v.asice", "application/vnd.etsi.asic-e+zip", gen.asice_container(s_ecc, ecc)),
        "PGP/MIME (detect only)": gen.pgp_signed_mail(),
        "unsigned request (text only)": mailgen.request("access", seed=1),
        "unsigned, 30 MB binary attachment": gen.mail_with_attachment(
            "scan.pdf", pdf, b"%PDF-1.4\n" + os.urandom(30 << 20)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="runs per case")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        anchors = anchors_dir(Path(tmp), shared_pki("rsa"), shared_pki("ec"))
        for pem in BELGIAN_EID.glob("*.pem"):  # temporary copy for the run, never the repo
            (anchors / pem.name).write_bytes(pem.read_bytes())
        detector = SignatureDetector(anchors)
        print(f"anchors: {len(detector.anchors.roots)} roots, "
              f"{len(detector.anchors.intermediates)} intermediates; {args.n} runs per case")
        print(f"{'case':40} {'status':21} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7}")
        for name, raw in cases().items():
            msg = parse_message(raw)
            runs = 5 if len(raw) > 1 << 20 else args.n
            times, cpu, found = [], [], []
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                found = detector(msg)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            status = ",".join(e.status for e in found) or "-"
            print(f"{name:40} {status:21} {statistics.median(times):9.1f} {p95:7.1f} "
                  f"{statistics.median(cpu):7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
