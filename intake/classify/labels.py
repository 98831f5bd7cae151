"""The names the classifier speaks: rights, signals and languages, in their canonical order."""

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

# Signals are scored like rights but exercise none: they decide the topic of a message.
SIGNALS: tuple[str, ...] = ("question", "noise")

LABELS: tuple[str, ...] = RIGHTS + SIGNALS

LANGUAGES: tuple[str, ...] = ("nl", "fr", "en", "de")

# These are Flemish mailboxes: when in doubt, a message is Dutch.
DEFAULT_LANGUAGE = "nl"
