"""Tests for the fictional mail generators: they parse, are reproducible, varied and fictional."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from intake.message import parse_message
from tests import mailgen

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "mailbox"

GENERATORS: dict[str, Callable[..., bytes]] = {
    "request": lambda **kw: mailgen.request("access", "nl", **kw),
    "request_multi": lambda **kw: mailgen.request(("access", "erasure"), "fr", **kw),
    "request_html": lambda **kw: mailgen.request("objection", "en", html=True, **kw),
    "question": lambda **kw: mailgen.question("de", **kw),
    "followup": lambda **kw: mailgen.followup("DPO-WSE-2026-0042", "<x@example.be>", **kw),
    "auto_reply": lambda **kw: mailgen.auto_reply("nl", "exchange", **kw),
    "bounce": lambda **kw: mailgen.bounce(**kw),
    "newsletter": lambda **kw: mailgen.newsletter(**kw),
    "invoice": lambda **kw: mailgen.invoice(**kw),
    "meeting_invitation": lambda **kw: mailgen.meeting_invitation(**kw),
    "spam": lambda **kw: mailgen.spam(**kw),
    **{f"broken_{v}": (lambda v=v, **kw: mailgen.broken_mime(v, **kw))
       for v in mailgen.BROKEN_VARIANTS},
}
NATIONAL_NUMBER = re.compile(rb"\b\d{2}[.\s]?\d{2}[.\s]?\d{2}[-.\s]?\d{3}[.\s]?\d{2}\b")


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_parses(name: str) -> None:
    raw = GENERATORS[name](seed=11)
    msg = parse_message(raw)
    assert msg.from_address.count("@") == 1
    assert msg.subject
    assert msg.message_id and msg.message_id.startswith("<")
    assert msg.date_header is not None
    assert msg.to == ("dpo.ago@vlaanderen.be",)
    if not name.startswith("broken_missing"):  # a multipart without boundary has no text
        assert len(msg.text) > 20


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_deterministic_per_seed(name: str) -> None:
    make = GENERATORS[name]
    assert make(seed=5) == make(seed=5)
    assert make(seed=5) != make(seed=6)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_without_a_seed_every_message_is_new(name: str) -> None:
    make = GENERATORS[name]
    first, second = parse_message(make()), parse_message(make())
    assert first.message_id != second.message_id


@pytest.mark.parametrize("name", sorted(n for n in GENERATORS if not n.startswith("broken")))
def test_output_uses_crlf_line_ends(name: str) -> None:
    raw = GENERATORS[name](seed=3)
    assert b"\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_options_are_applied() -> None:
    from datetime import datetime

    from tests.mailgen import BRUSSELS

    when = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)
    raw = mailgen.request(
        "erasure", "en", to="dpo.wse@vlaanderen.be", sender=("Sarah Bennett", "sb@example.org"),
        subject="Delete me", message_id="<fixed@example.org>", in_reply_to="<prev@example.org>",
        date=when, seed=1, attachments=[("id.png", "image/png", b"\x89PNG fictional")],
    )
    msg = parse_message(raw)
    assert msg.to == ("dpo.wse@vlaanderen.be",)
    assert (msg.from_name, msg.from_address) == ("Sarah Bennett", "sb@example.org")
    assert msg.subject == "Delete me"
    assert msg.message_id == "<fixed@example.org>"
    assert msg.thread_ids == ("<prev@example.org>",)
    assert msg.date_header is not None and msg.date_header.timestamp() == when.timestamp()
    assert [(a.filename, a.payload) for a in msg.attachments] == [("id.png", b"\x89PNG fictional")]


@pytest.mark.parametrize("lang", mailgen.LANGUAGES)
@pytest.mark.parametrize("right", mailgen.RIGHTS)
def test_requests_carry_a_phrasing_of_their_right(right: str, lang: str) -> None:
    seen = set()
    for seed in range(12):
        text = _normalised(parse_message(mailgen.request(right, lang, seed=seed)).text)
        used = [p for p in mailgen.PHRASES[right][lang] if _normalised(p) in text]
        assert len(used) == 1, (right, lang, seed)
        seen.update(used)
    assert len(seen) >= 2  # the phrasings vary


def test_multi_right_request_carries_both_rights() -> None:
    text = _normalised(parse_message(mailgen.request(("access", "erasure"), "nl", seed=2)).text)
    for right in ("access", "erasure"):
        assert any(_normalised(p) in text for p in mailgen.PHRASES[right]["nl"]), right


def test_unknown_right_is_refused() -> None:
    with pytest.raises(ValueError):
        mailgen.request("teleportation")
    with pytest.raises(ValueError):
        mailgen.request(())


def test_phrasings_are_in_their_language() -> None:
    from lingua import Language, LanguageDetectorBuilder

    languages = {"nl": Language.DUTCH, "fr": Language.FRENCH, "en": Language.ENGLISH,
                 "de": Language.GERMAN}
    detector = LanguageDetectorBuilder.from_languages(*languages.values()).build()
    texts = [(lang, phrase) for right in mailgen.PHRASES.values()
             for lang, phrases in right.items() for phrase in phrases]
    texts += [(lang, body) for lang, items in mailgen.QUESTIONS.items() for _, body in items]
    wrong = [(lang, text) for lang, text in texts
             if detector.detect_language_of(text) != languages[lang]]
    assert not wrong


def test_phrasings_cover_every_right_and_language() -> None:
    assert set(mailgen.PHRASES) == set(mailgen.RIGHTS) == set(mailgen.SUBJECTS)
    for right in mailgen.RIGHTS:
        assert set(mailgen.PHRASES[right]) == set(mailgen.LANGUAGES)
        assert all(len(p) >= 3 for p in mailgen.PHRASES[right].values())


def test_followup_names_the_case_and_the_thread() -> None:
    raw = mailgen.followup("DPO-AGO-2026-0001", "<orig@example.be>", "fr", seed=1)
    msg = parse_message(raw)
    assert "DPO-AGO-2026-0001" in msg.subject
    assert msg.in_reply_to == ("<orig@example.be>",)
    assert "> " in msg.text  # quotes our acknowledgement


def test_bounce_is_a_delivery_status_report() -> None:
    raw = mailgen.bounce("gone@example.be", seed=1)
    top = message_from_bytes(raw, policy=policy.SMTP)
    assert top.get_content_type() == "multipart/report"
    assert top.get_param("report-type") == "delivery-status"
    assert top["Return-Path"] == "<>"
    assert top["From"].addresses[0].username == "MAILER-DAEMON"
    parts = [part.get_content_type() for part in top.iter_parts()]
    assert parts == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    assert b"Final-Recipient: rfc822; gone@example.be" in raw


def test_newsletter_has_list_headers() -> None:
    msg = parse_message(mailgen.newsletter(seed=1))
    assert msg.header("precedence") == "bulk"
    assert msg.header("list-id") and msg.header("list-unsubscribe")


def test_invoice_has_a_pdf_and_the_invitation_a_calendar() -> None:
    invoice = parse_message(mailgen.invoice(seed=1))
    assert [a.content_type for a in invoice.attachments] == ["application/pdf"]
    assert invoice.attachments[0].payload.startswith(b"%PDF-1.4")
    assert invoice.attachments[0].payload.rstrip().endswith(b"%%EOF")
    top = message_from_bytes(mailgen.meeting_invitation(seed=1), policy=policy.SMTP)
    calendar = [p for p in top.walk() if p.get_content_type() == "text/calendar"]
    assert calendar and calendar[0].get_param("method") == "REQUEST"
    assert "BEGIN:VEVENT" in calendar[0].get_content()


def test_broken_variants_are_really_broken() -> None:
    missing = parse_message(mailgen.broken_mime("missing_boundary", seed=1))
    assert "NoBoundaryInMultipartDefect" in missing.defects
    undeclared = mailgen.broken_mime("undeclared_8bit", seed=1)
    assert not undeclared.isascii() and b"charset" not in undeclared
    assert b"utf-99-bogus" in mailgen.broken_mime("bad_charset", seed=1)
    with pytest.raises(ValueError):
        mailgen.broken_mime("nonsense")


def test_backlog_is_varied_and_mostly_requests() -> None:
    messages = [parse_message(raw) for raw in mailgen.backlog(200, seed=1)]
    assert len(messages) == 200
    assert len({m.message_id for m in messages}) == 200
    assert len({m.text for m in messages}) > 150
    assert len({m.subject for m in messages}) > 40
    assert {m.to for m in messages} == {("dpo.ago@vlaanderen.be",), ("dpo.wse@vlaanderen.be",)}
    assert all(not m.attachments and m.html is None for m in messages)
    request_phrases = [_normalised(p) for right in mailgen.PHRASES.values()
                       for phrases in right.values() for p in phrases]
    requests = sum(any(p in _normalised(m.text) for p in request_phrases) for m in messages)
    assert requests > 120
    first_words = Counter(m.text.split()[0] for m in messages)
    assert len(first_words) > 8  # several languages and kinds


def test_backlog_is_deterministic_per_seed() -> None:
    assert list(mailgen.backlog(20, seed=3)) == list(mailgen.backlog(20, seed=3))
    assert list(mailgen.backlog(20, seed=3)) != list(mailgen.backlog(20, seed=4))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_only_fictional_addresses_and_no_national_numbers(name: str) -> None:
    raw = GENERATORS[name](seed=9)
    msg = parse_message(raw)
    domain = msg.from_address.rpartition("@")[2]
    assert domain.endswith(("example.org", "example.be"))
    assert not NATIONAL_NUMBER.search(raw)


def test_demo_maildir_is_written_and_matches_examples(tmp_path: Path) -> None:
    files = mailgen.write_maildir(tmp_path)
    assert 14 <= len(files) <= 16
    for key in ("ago", "wse"):
        assert (tmp_path / key / "new").is_dir()
        for sub in ("cur", "tmp"):
            assert (tmp_path / key / sub / ".gitkeep").exists()
    by_key: dict[str, list] = {"ago": [], "wse": []}
    for path in files:
        key = path.parent.parent.name
        msg = parse_message(path.read_bytes())
        assert msg.to == (mailgen.CONTROLLERS[key],)
        by_key[key].append(msg)
    ago = sorted(by_key["ago"], key=lambda m: m.date_header)
    followups = [m for m in ago if "DPO-AGO-2026-0001" in m.subject]
    assert len(followups) == 1
    assert followups[0].from_address == ago[0].from_address
    assert all(m.date_header.year == 2026 for msgs in by_key.values() for m in msgs)
    # Reproducible: a second run writes the same names and bytes, and the checked-in tree
    # is exactly what the generator writes.
    again = mailgen.write_maildir(tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in files]
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in files]
    if EXAMPLES.exists():
        for path in files:
            checked_in = EXAMPLES / path.relative_to(tmp_path)
            assert checked_in.read_bytes() == path.read_bytes(), checked_in


def test_main_writes_the_maildir(tmp_path: Path) -> None:
    assert mailgen.main(["maildir", str(tmp_path)]) == 0
    written = [p for p in tmp_path.glob("*/new/*") if not p.name.startswith(".")]
    assert len(written) == len(mailgen.demo_messages())
    assert mailgen.main(["backlog", str(tmp_path / "b"), "-n", "5"]) == 0
    assert len(list((tmp_path / "b").glob("*.eml"))) == 5


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
