"""Templates and words of staff mail (digests, alerts): Jinja2 environments and staff.yaml."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import yaml

from intake.outbound.render import template_environment
from intake.rights import LANGUAGES

# A Belgian national register number (YYMMDD-XXX-CC, with or without separators), or anything
# shaped like it: staff mail never shows one, whatever text it came in.
_NATIONAL_NUMBER_RE = re.compile(
    r"(?<!\d)\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?!\d)"
)


def text_environment() -> jinja2.Environment:
    """The plain-text Jinja2 environment the requester replies use too (render.py)."""
    return template_environment()


@cache
def html_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("intake.outbound", "templates"),
        autoescape=True,  # every value is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def staff_words(language: str) -> Mapping[str, Any]:
    """staff.yaml of the language, with the rights in words from its words.yaml."""
    if language not in LANGUAGES:
        raise ValueError(f"no staff templates for language {language!r}")
    folder = resources.files("intake.outbound") / "templates" / language
    words = yaml.safe_load((folder / "staff.yaml").read_text(encoding="utf-8"))
    reply_words = yaml.safe_load((folder / "words.yaml").read_text(encoding="utf-8"))
    return {**words, "rights": reply_words["rights"]}


def plural(n: int, unit: str, language: str) -> str:
    """"1 dag", "3 werkdagen": staff.yaml `units` has [one, many] per unit."""
    one, many = staff_words(language)["units"][unit]
    return (one if n == 1 else many).format(n=n)


def safe_text(value: str | None, limit: int = 200) -> str:
    """One line of untrusted text for staff: no control characters, no national numbers."""
    text = value or ""
    if not (text.isascii() and text.isprintable()):  # printable ASCII has nothing to replace
        text = "".join(
            " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
        )
    text = _NATIONAL_NUMBER_RE.sub("[***]", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def requester_text(name: str | None, address: str) -> str:
    """"Name <address>" for staff, from untrusted header text."""
    clean = safe_text(name, 80)
    return f"{clean} <{address}>" if clean else address
