"""The names the classifier speaks: rights, signals and languages, in their canonical order."""

from __future__ import annotations

from intake.rights import LANGUAGES, RIGHTS

# Signals are scored like rights but exercise none: they decide the topic of a message.
SIGNALS: tuple[str, ...] = ("question", "noise")

LABELS: tuple[str, ...] = RIGHTS + SIGNALS

__all__ = ["DEFAULT_LANGUAGE", "LABELS", "LANGUAGES", "RIGHTS", "SIGNALS"]

# These are Flemish mailboxes: when in doubt, a message is Dutch.
DEFAULT_LANGUAGE = "nl"
