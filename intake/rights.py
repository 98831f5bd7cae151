"""The names every part shares: the data-subject rights and the languages, in canonical order."""

from __future__ import annotations

# The nine GDPR rights, in the order every output lists them (Articles 15-22 and 77).
RIGHTS: tuple[str, ...] = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
    "withdraw_consent",
    "complaint",
    "automated_decision",
)

LANGUAGES: tuple[str, ...] = ("nl", "fr", "en", "de")
