"""The names the classifier speaks: rights, signals and languages, in their canonical order."""

from __future__ import annotations

from intake.rights import LANGUAGES, RIGHTS

# Signals are scored like rights but exercise none: they decide the topic of a message.
SIGNALS: tuple[str, ...] = ("question", "noise")

LABELS: tuple[str, ...] = RIGHTS + SIGNALS

# What a message is, as the everyday-mail labels say it (issue 12); the corpus may carry it.
KINDS: tuple[str, ...] = ("request", "question", "followup", "robot", "other")

__all__ = ["DEFAULT_LANGUAGE", "KINDS", "LABELS", "LANGUAGES", "RIGHTS", "SIGNALS"]

# These are Flemish mailboxes: when in doubt, a message is Dutch.
DEFAULT_LANGUAGE = "nl"
