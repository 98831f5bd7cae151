"""A digest as mail: subject, plain text and Outlook-friendly HTML from per-language templates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from intake.digest.collect import ALL, MAILBOX_GROUP, Digest, DigestLine, Reason, Section
from intake.outbound.render import format_long_date
from intake.outbound.stafftemplates import (
    html_environment,
    plural,
    safe_text,
    staff_words,
    text_environment,
)
from intake.store.timezone import BRUSSELS

# Section colours (HTML only): red for what is late or lost, amber for soon, calm for the rest.
COLOURS = {
    "to_classify": "#b00020", "listed": "#555555",
    "overdue": "#b00020", "due_soon": "#c25e00", "extension": "#8a6d00", "identity": "#1d4f91",
    "review": "#6a1b9a", "new": "#2e7d32", "failures": "#b00020",
}
_UNITS = {"days": "day", "left": "day", "working_days": "working_day"}


def render_digest(digest: Digest, language: str = "nl",
                  base_url: str = "") -> tuple[str, str, str]:
    """(subject, text, html) in `language`; a language without its own layout uses the Dutch one.

    Every value is text (the HTML template escapes it); nothing is read from message bodies.
    With `base_url` ([web] base_url) every case links to its page in the web console.
    """
    words = staff_words(language)
    view = _view(digest, language, words)
    _add_links(view, base_url)
    text = text_environment().select_template(
        [f"{language}/digest.txt", "nl/digest.txt"]).render(view)
    html = html_environment().select_template(
        [f"{language}/digest.html", "nl/digest.html"]).render(view)
    return view["subject"], text, html


def _add_links(view: dict[str, Any], base_url: str) -> None:
    for section in view["sections"]:
        for group in section["groups"]:
            for row in group["rows"]:
                reference = row["reference"]
                row["link"] = (f"{base_url.rstrip('/')}/cases/{quote(reference)}"
                               if base_url and reference != "—" else "")


def digest_view(digest: Digest, language: str = "nl") -> dict[str, Any]:
    """The digest's values (sections, rows, links) for another layout, e.g. the web console."""
    return _view(digest, language, staff_words(language))


def scope_name(digest: Digest, language: str) -> str:
    if digest.scope == ALL:
        return staff_words(language)["all_mailboxes"]
    return digest.mailboxes[0].controller


def _view(digest: Digest, language: str, words: Mapping[str, Any]) -> dict[str, Any]:
    summary = [words["summary"][s.key].format(n=s.total) for s in digest.sections if s.total]
    day = format_long_date(digest.day, language)
    since = digest.since.astimezone(BRUSSELS)
    subject = words["digest_subject"].format(
        date=digest.day.isoformat(), scope=scope_name(digest, language),
        summary=", ".join(summary) if summary else words["digest_nothing"],
    )
    return {
        "language": language,
        "subject": subject,
        "title": words["title"],
        "scope_name": scope_name(digest, language),
        "intro": words["intro"].format(date=day),
        "open_cases": words["open_cases"].format(n=digest.open_cases),
        "summary": ", ".join(summary),
        "nothing": words["nothing"],
        "footer": words["footer"],
        "columns": words["columns"],
        "sections": [
            _section_view(s, digest, language, words,
                          since=f"{format_long_date(since.date(), language)} {since:%H:%M}")
            for s in digest.sections if s.total
        ],
    }


def _section_view(section: Section, digest: Digest, language: str, words: Mapping[str, Any],
                  since: str) -> dict[str, Any]:
    title = words["sections"][section.key].format(days=digest.due_within_days, since=since)
    return {
        "key": section.key,
        "title": title,
        "total": section.total,
        "colour": COLOURS[section.key],
        "more": words["more"].format(n=section.hidden) if section.hidden else "",
        "groups": [
            {
                "title": _group_title(g.key, words) if g.key else "",
                "rows": [_row(line, language, words) for line in g.lines],
            }
            for g in section.groups
        ],
    }


def _group_title(key: str, words: Mapping[str, Any]) -> str:
    if key.startswith(MAILBOX_GROUP):
        return words["groups"]["mailbox"].format(mailbox=key.removeprefix(MAILBOX_GROUP))
    if key in words["groups"]:
        return words["groups"][key]
    right = words["rights"].get(key, key)
    return right[:1].upper() + right[1:]


def _row(line: DigestLine, language: str, words: Mapping[str, Any]) -> dict[str, str]:
    """The cells of one line (HTML) and the same facts as one phrase (text)."""
    due = cell = ""
    if line.due is not None:
        if line.kind == "question":
            due = cell = words["target"].format(date=line.due.isoformat())
        else:
            due, cell = words["due_phrase"].format(date=line.due.isoformat()), line.due.isoformat()
    status = [words["statuses"].get(line.status, line.status)]
    if line.extended:
        status.append(words["extended"])
    if line.assignee:
        status.append(words["assigned"].format(who=line.assignee))
    if line.rights:
        rights = ", ".join(words["rights"].get(r, r) for r in line.rights)
    else:
        rights = words["question"] if line.kind == "question" else ""
    phrase = {"outbox": "queued_phrase", "mailbox": "last_read_phrase"}.get(line.kind,
                                                                          "received_phrase")
    when = words[phrase].format(date=line.received.isoformat())
    return {
        "reference": line.reference or "—",
        "requester": line.requester,
        "rights": rights or "—",
        "received": line.received.isoformat(),
        "due": cell or "—",
        "status": ", ".join(status),
        "facts": " | ".join(part for part in (rights, when, due, ", ".join(status)) if part),
        "reason": _reason(line.reason, language, words) if line.reason else "",
    }


def _reason(reason: Reason, language: str, words: Mapping[str, Any]) -> str:
    values: dict[str, str] = {}
    for key, value in reason.params.items():
        if key in _UNITS:
            values[key] = plural(value, _UNITS[key], language) if value is not None else "?"
        elif isinstance(value, date):
            values[key] = value.isoformat()
        elif key == "why" and reason.code == "review":
            values[key] = _review_reason(str(value), words)
        elif key == "purpose":
            values[key] = words["purposes"].get(value, value)
        else:
            values[key] = safe_text(str(value), 160)
    return words["reasons"][reason.code].format(**values)


def _review_reason(text: str, words: Mapping[str, Any]) -> str:
    """The recorder's English review reason in the digest's language: each part ("a: x; b: y")
    by its known prefix; what follows a prefix (rights, references) stays as it is."""
    known = sorted(words["review_reasons"].items(), key=lambda kv: -len(kv[0]))
    rights = {**words.get("signals", {}), **words["rights"]}
    parts = []
    for part in text.split("; "):
        for english, translated in known:
            if part.startswith(english):
                rest = part[len(english):]
                if rest.startswith(": "):  # a list of rights or signals: name them in words
                    names = [str(rights.get(name, name)) for name in rest[2:].split(", ")]
                    rest = ": " + ", ".join(names)
                part = translated + rest
                break
        parts.append(part)
    return safe_text("; ".join(parts), 160)
