"""Trust anchors: a directory of CA certificates (PEM or DER) that signatures must chain to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem, x509

log = logging.getLogger(__name__)

CERT_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Anchors:
    """Self-signed roots are trust anchors; other CA certificates only help build paths."""

    roots: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.roots)


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle or one DER certificate. Raises ValueError if none."""
    if pem.detect(data):
        certs = [
            x509.Certificate.load(der)
            for kind, _, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    else:
        certs = [x509.Certificate.load(data)]
    for cert in certs:
        cert.native  # noqa: B018 -- force a full parse so a broken file fails here, not later
    if not certs:
        raise ValueError("no CERTIFICATE block")
    return certs


def load_anchors(directory: str | Path | None) -> Anchors:
    """Read a trust anchor directory. Missing or empty means nothing is trusted (logged once)."""
    if not directory:
        log.warning("trust anchors missing", extra={"reason": "not_configured"})
        return Anchors()
    path = Path(directory)
    if not path.is_dir():
        log.warning("trust anchors missing", extra={"dir": str(path), "reason": "not_a_directory"})
        return Anchors(source=str(path))
    roots: list[x509.Certificate] = []
    intermediates: list[x509.Certificate] = []
    for file in sorted(path.iterdir()):
        if file.suffix.lower() not in CERT_SUFFIXES or not file.is_file():
            continue
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise ValueError("file too large")
            certs = parse_certificates(file.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            log.warning("trust anchor unreadable",
                        extra={"file": file.name, "error": type(exc).__name__})
            continue
        for cert in certs:
            (roots if cert.self_signed in ("maybe", "yes") else intermediates).append(cert)
    if not roots:
        log.warning("trust anchors missing",
                    extra={"dir": str(path), "reason": "no_root_certificates"})
    else:
        log.info("trust anchors loaded", extra={"dir": str(path), "roots": len(roots),
                                                "intermediates": len(intermediates)})
    return Anchors(roots=tuple(roots), intermediates=tuple(intermediates), source=str(path))
