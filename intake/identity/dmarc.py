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
