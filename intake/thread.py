"""Thread hint: which case a message may belong to (a reference in the subject, reply headers)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from intake.message import ParsedMessage

GENERIC_PREFIX = r"DPO-[A-Z0-9]+"


def reference_pattern(prefixes: Collection[str] = ()) -> re.Pattern[str]:
    """A pattern for case references (PREFIX-YYYY-NNNN) of the given prefixes, or any DPO-* one."""
    return _reference_pattern(tuple(prefixes))


# Every message is checked against the same few prefixes (the mailboxes'): the pattern is built
# once per set of prefixes, not per message. A process has one or two sets (settings reloads).
@lru_cache(maxsize=8)
def _reference_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives or GENERIC_PREFIX})-\d{{4}}-\d{{4,6}}\b")


def format_reference(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:04d}"


@dataclass(frozen=True)
class ThreadHint:
    """Clues that a message continues a case; the case stage checks them against the DB."""

    case_refs: tuple[str, ...]  # references found in the subject, in order
    reply_to_ids: tuple[str, ...]  # In-Reply-To then References (newest first)

    @property
    def case_ref(self) -> str | None:
        return self.case_refs[0] if self.case_refs else None


def thread_hint(msg: ParsedMessage, prefixes: Collection[str] = ()) -> ThreadHint:
    """References in the subject (case-insensitive) and the Message-IDs the message answers."""
    found = reference_pattern(prefixes).findall(msg.subject.upper())
    return ThreadHint(case_refs=tuple(dict.fromkeys(found)), reply_to_ids=msg.thread_ids)
