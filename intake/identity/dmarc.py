"""DMARC in Authentication-Results (RFC 8601): did the receiving server see the From domain fail?"""

from __future__ import annotations

import re

from intake.message import ParsedMessage

_COMMENT = re.compile(r"\([^()]*\)")
_DMARC_FAIL = re.compile(r"(?:^|[;\s])dmarc\s*=\s*fail\b", re.IGNORECASE)


def dmarc_failed(msg: ParsedMessage) -> bool:
    """True when any Authentication-Results header reports dmarc=fail.

    A failure only ever takes trust away (the sender address then proves nothing), so every
    header counts, also one a sender could have forged; comments are ignored.
    """
    return any(_DMARC_FAIL.search(_COMMENT.sub(" ", value)) for value in msg.authentication_results)


_POLICY = re.compile(
    r"(?:\bp|policy\.dmarc|\baction)\s*=\s*(reject|quarantine|oreject|none)\b", re.IGNORECASE
)
ENFORCED = frozenset({"reject", "quarantine"})


def dmarc_policy(msg: ParsedMessage) -> str | None:
    """The From domain's published policy ("reject" | "quarantine" | "none") as a header that
    reports dmarc=fail states it, or None when no failing header names one.

    Google writes it in a comment "(p=REJECT sp=REJECT dis=NONE)", others as
    `policy.dmarc=quarantine` or Microsoft's `action=oreject`.
    """
    for value in msg.authentication_results:
        if not _DMARC_FAIL.search(_COMMENT.sub(" ", value)):
            continue
        found = _POLICY.search(value)
        if found:
            policy = found.group(1).lower()
            return "reject" if policy == "oreject" else policy
    return None
