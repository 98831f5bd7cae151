"""Tick-box forms: a form that prints every right and ticks one exercises the ticked one only."""

from __future__ import annotations

import re

# A box at the start of a line, after an optional bullet: "[ ]", "[x]", "( )", "(x)", "☐", "☒".
_BOX_LINE = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?(?:\[(?P<square>[^\]\n]{0,2})\]|\((?P<round>[ xX]?)\)"
    r"|(?P<glyph>[☐□☑☒✅■]))",
    re.MULTILINE,
)
_EMPTY_GLYPHS = frozenset("☐□")
# Fewer box lines than this are no form: "[x]" once is a writer's own emphasis.
MIN_BOXES = 3


def _ticked(match: re.Match[str]) -> bool:
    if match.group("glyph") is not None:
        return match.group("glyph") not in _EMPTY_GLYPHS
    inside = match.group("square") if match.group("square") is not None else match.group("round")
    return bool(inside.strip())


def drop_unticked(text: str) -> tuple[str, int]:
    """The text without the lines of unticked boxes, when it holds a form (at least MIN_BOXES box
    lines, some unticked), and how many lines went. The printed options of a form name every
    right; only the ticked ones are what the writer asks, and the rest of the text stays."""
    boxes = list(_BOX_LINE.finditer(text))
    unticked = [m for m in boxes if not _ticked(m)]
    if len(boxes) < MIN_BOXES or not unticked:
        return text, 0
    starts = {m.start() for m in unticked}
    kept, position = [], 0
    for line in text.split("\n"):
        if position not in starts:
            kept.append(line)
        position += len(line) + 1
    return "\n".join(kept), len(unticked)
