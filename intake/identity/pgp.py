"""OpenPGP signatures (PGP/MIME and inline): detected and described, not verified (no keyring)."""

from __future__ import annotations

import base64
import binascii
import re

from intake.identity import Evidence

_ARMOR = re.compile(
    rb"-----BEGIN PGP SIGNATURE-----\r?\n(?P<body>.*?)-----END PGP SIGNATURE-----", re.DOTALL
)
_INLINE = b"-----BEGIN PGP SIGNED MESSAGE-----"
NOT_CHECKED = "not verified: no OpenPGP keys are configured"


def _first_packet_tag(packet: bytes) -> int | None:
    """The packet tag of the first OpenPGP packet (RFC 9580 §4.2), or None if not a packet."""
    if not packet or not packet[0] & 0x80:
        return None
    return packet[0] & 0x3F if packet[0] & 0x40 else (packet[0] >> 2) & 0x0F


def describe_armor(data: bytes) -> tuple[bool, str]:
    """(well formed, description) of the first ASCII-armored signature block in `data`."""
    found = _ARMOR.search(data)
    if not found:
        return False, "no PGP SIGNATURE block"
    lines = found.group("body").replace(b"\r", b"").split(b"\n")
    if b"" in lines:  # armor headers ("Version: ...") end at the first empty line
        lines = lines[lines.index(b"") + 1:]
    payload = b"".join(line for line in lines if line and not line.startswith(b"="))
    try:
        packet = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return False, "PGP SIGNATURE block is not valid base64"
    if _first_packet_tag(packet) != 2:
        return False, "PGP SIGNATURE block holds no signature packet"
    return True, f"signature packet of {len(packet)} bytes"


def pgp_mime(signature_part: bytes, micalg: str) -> Evidence:
    """A multipart/signed with protocol application/pgp-signature."""
    ok, what = describe_armor(signature_part)
    return Evidence(
        type="pgp",
        status="unverified_signature" if ok else "invalid_signature",
        detail=f"PGP/MIME signature (micalg={micalg or '?'}), {what}; {NOT_CHECKED}",
    )


def inline_pgp(text: bytes) -> Evidence | None:
    """A text part that is a cleartext-signed OpenPGP message, if it is one."""
    if _INLINE not in text:
        return None
    ok, what = describe_armor(text)
    return Evidence(
        type="pgp",
        status="unverified_signature" if ok else "invalid_signature",
        detail=f"inline PGP signed message, {what}; {NOT_CHECKED}",
    )
