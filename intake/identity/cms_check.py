"""CMS (PKCS#7) signature validation with pyHanko: integrity, then the chain at signing time."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from asn1crypto import cms
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation.generic_cms import (
    async_validate_cms_signature,
    async_validate_detached_cms,
    extract_self_reported_ts,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureStatus
from pyhanko_certvalidator import ValidationContext

from intake.identity.trust import Anchors
from intake.identity.verdict import Check

# pyHanko logs full tracebacks for every untrusted or broken signature; we report them ourselves.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

MAX_CMS_BYTES = 1 << 20  # a signature blob with its certificates; real ones are a few kB
# Certificates a signature may bring for path building. A real chain is 2-4; 1,000 CA
# certificates of one name made pyhanko-certvalidator recurse until RecursionError.
MAX_CERTIFICATES = 50
CLOCK_SKEW = timedelta(minutes=10)
# nonRepudiation is checked separately (verdict.py) so that "untrusted" and "wrong key usage"
# stay two different findings; the chain itself needs no particular usage.
ANY_USAGE = KeyUsageConstraints(key_usage=set())

_PROBLEMS = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: "no chain to a configured trust anchor",
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: "certificate not valid at signing time (expired?)",
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: "certificate not valid at signing time",
    AdESIndeterminate.EXPIRED: "certificate expired at signing time",
    AdESIndeterminate.NOT_YET_VALID: "certificate not yet valid at signing time",
    AdESIndeterminate.REVOKED_NO_POE: "certificate revoked",
    AdESIndeterminate.REVOKED_CA_NO_POE: "a CA certificate in the chain is revoked",
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: "chain constraints failed",
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE: "algorithm not allowed",
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "algorithm no longer allowed",
}

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's async API from sync code, also when the caller has an event loop running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def validation_moment(claimed: datetime | None, now: datetime) -> datetime:
    """Certificates are checked at the signing time the signer claims, never in the future."""
    if claimed is None or claimed > now + CLOCK_SKEW:
        return now
    return claimed


def validation_context(anchors: Anchors, moment: datetime) -> ValidationContext:
    """Offline: only the configured roots, no fetching of certificates, CRLs or OCSP."""
    return ValidationContext(
        trust_roots=list(anchors.roots),
        other_certs=list(anchors.intermediates),
        moment=moment,
        best_signature_time=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


class NotSignedData(ValueError):
    """Well-formed CMS that holds no signature (enveloped or compressed data)."""


def load_signed_data(der: bytes) -> cms.SignedData:
    """Parse a CMS ContentInfo holding signed-data. Raises ValueError on anything else."""
    if len(der) > MAX_CMS_BYTES:
        raise ValueError(f"CMS blob too large ({len(der)} bytes)")
    info = cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        raise NotSignedData(f"CMS content is {info['content_type'].native}, not signed-data")
    signed = info["content"]
    signed.native  # noqa: B018 -- parse it all now: asn1crypto is lazy and fails late otherwise
    if len(signed["signer_infos"]) != 1:
        raise ValueError(f"{len(signed['signer_infos'])} signers (expected 1)")
    return signed


def to_check(status: SignatureStatus, anchors: Anchors, claimed: datetime | None) -> Check:
    """pyHanko's status in our terms."""
    trusted = bool(anchors) and status.trust_problem_indic is None and status.validation_path
    problem = ""
    if not anchors:
        problem = "no trust anchors configured"
    elif not trusted:
        problem = _PROBLEMS.get(status.trust_problem_indic, "certificate chain not validated")
    chain: tuple[str, ...] = ()
    if trusted:
        path = list(status.validation_path.iter_certs(include_root=True))
        # the path runs root → signer; report the signer's issuer first
        chain = tuple(c.subject.native.get("common_name", "?") for c in reversed(path[:-1]))
    return Check(
        intact=status.intact, valid=status.valid, trusted=bool(trusted), problem=problem,
        cert=status.signing_cert, signing_time=claimed, chain=chain,
    )


def too_many_certificates(signed: cms.SignedData) -> str:
    """Why the certificates of `signed` are not even considered for a path, or ""."""
    count = len(signed["certificates"]) if signed["certificates"] else 0
    if count > MAX_CERTIFICATES:
        return f"not verified: {count} certificates in the signature (more than {MAX_CERTIFICATES})"
    return ""


def check_cms(signed: cms.SignedData, content: bytes | None, anchors: Anchors,
              now: datetime) -> Check:
    """Validate signed-data: detached over `content`, or over its own encapsulated content."""
    refused = too_many_certificates(signed)
    if refused:
        return Check(intact=True, valid=True, unverified=refused)
    claimed = extract_self_reported_ts(signed["signer_infos"][0])
    context = validation_context(anchors, validation_moment(claimed, now or datetime.now(UTC)))
    if content is None:
        status = run(async_validate_cms_signature(
            signed, validation_context=context, key_usage_settings=ANY_USAGE))
    else:
        status = run(async_validate_detached_cms(
            content, signed, signer_validation_context=context, key_usage_settings=ANY_USAGE))
    return to_check(status, anchors, claimed)
