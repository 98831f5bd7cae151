"""Staff digests on SQLite and PostgreSQL: sections, text and HTML, once per day, real SMTP."""

from __future__ import annotations

import email
import logging
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from intake.cli import main
from intake.digest import ALL, collect_digest, queue_digests, record_heartbeat, render_digest
from intake.digest.collect import SECTIONS
from intake.outbound.outbox import flush_outbox
from intake.outbound.stafftemplates import staff_words
from intake.outbound.transport import open_transport
from intake.store.models import Case, DigestRun, OutboxItem
from tests import casefactory as cf

# Which fixture case belongs in which section of the "ago" digest as of cf.NOW.
EXPECTED = {
    "overdue": ["overdue", "question_late"],
    "due_soon": ["due_soon", "extension"],
    "extension": ["extension"],
    "identity": ["identity"],
    "review": ["review_question", "review_sender"],
    "new": ["new", "review_sender", "review_question"],  # grouped: access, erasure, questions
    "failures": ["extended", "new"],
}


@pytest.fixture
def refs(db) -> dict[str, str]:
    with db.sessions() as session, session.begin():
        return cf.populate(session)


def collect(db, scope: str = "ago", settings=None, now=cf.NOW):
    with db.sessions() as session:
        return collect_digest(session, settings or cf.settings(), scope, now)


def outbox_count(db, purpose: str = "digest") -> int:
    with db.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.purpose == purpose))


def test_sections_hold_the_right_cases_in_order(db, refs):
    digest = collect(db)
    assert [s.key for s in digest.sections] == list(SECTIONS)
    for key, roles in EXPECTED.items():
        found = [line.reference for line in digest.section(key).lines if line.reference]
        assert found == [refs[r] for r in roles], key
    # The quarantined message is listed for review without a case.
    review = digest.section("review").lines
    assert [line.kind for line in review] == ["question", "request", "message"]
    assert review[-1].status == "quarantined"
    assert [g.key for g in digest.section("new").groups] == ["access", "erasure", "question"]
    # The closed case, the far-off extended one and the other mailbox's case are nowhere.
    listed = {line.reference for s in digest.sections for line in s.lines}
    assert refs["closed"] not in listed and refs["wse_overdue"] not in listed
    assert refs["extended"] not in {line.reference for key in ("overdue", "due_soon", "extension")
                                    for line in digest.section(key).lines}
    assert digest.open_cases == 9
    assert digest.since == cf.LAST_DIGEST


def test_reasons_and_status_of_flagged_lines(db, refs):
    digest = collect(db)
    overdue = digest.section("overdue").lines[0]
    assert (overdue.reason.code, overdue.reason.params["days"]) == ("overdue", 11)
    assert overdue.assignee == "an.devos"
    soon = {line.reference: line.reason for line in digest.section("due_soon").lines}
    assert soon[refs["due_soon"]].params == {"working_days": 3}  # Wed, Thu, Fri
    extension = digest.section("extension").lines[0].reason
    assert extension.params["working_days"] == 4
    identity = digest.section("identity").lines[0]
    assert identity.due is None  # the clock stands still: no due date to show
    assert identity.reason.params["days"] == 14 and identity.reason.params["left"] == 31


def test_text_digest_in_dutch_without_bodies_or_national_numbers(db, refs):
    subject, text, html = render_digest(collect(db), "nl")
    assert subject.startswith(
        "DPO-overzicht 2026-06-09 – Agentschap Overheidspersoneel: 2 over tijd, 2 binnenkort")
    titles = ["== Over tijd (2) ==", "== Uiterlijke datum binnen 7 dagen (2) ==",
              "== Beslis over verlenging", "== Wacht op identiteitsbewijs (1) ==",
              "== Na te kijken (3) ==", "== Nieuw sinds 8 juni 2026 08:00 (3) ==",
              "== Niet verstuurde mails (2) =="]
    positions = [text.index(t) for t in titles]
    assert positions == sorted(positions)
    overdue_block = text[positions[0]:positions[1]]
    assert refs["overdue"] in overdue_block and "11 dagen over tijd" in overdue_block
    assert "Els Janssens <els.janssens@example.be>" in overdue_block
    assert "inzage, wissing | ontvangen 2026-04-29 | uiterlijk 2026-05-29" in overdue_block
    assert "verlengen kan nog tot en met 2026-06-15 (4 werkdagen)" in text
    assert "klok stil sinds 2026-05-26 (14 dagen); daarna nog 31 dagen" in text
    assert "vervolgbericht van een andere afzender dan de aanvrager" in text
    assert "bericht in quarantaine: MIME parse error" in text
    assert "550 5.1.1" in text and "onzeker" in text
    for rendered in (subject, text, html):
        assert cf.BODY_MARKER not in rendered
        assert not re.search(r"85\.?07\.?30", rendered), "a national number leaked"
        assert "Verzoek" not in rendered  # subjects of incoming mail are not shown either


def test_html_digest_is_outlook_friendly_and_escaped(db, refs):
    with db.sessions() as session, session.begin():
        case = session.scalars(select(Case).where(Case.reference == refs["new"])).one()
        case.requester_name = '<script>alert("x")</script> Tom'
    html = render_digest(collect(db), "nl")[2]
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert "<img" not in html.lower() and "src=" not in html.lower()
    assert "<style" not in html.lower() and "class=" not in html.lower()  # inline styles only
    assert "http://" not in html and "https://" not in html
    parser = _Tags()
    parser.feed(html)
    assert parser.tags >= {"table", "tr", "td", "th", "h1", "h2"}
    assert html.count("<h2") == len(EXPECTED)
    assert refs["overdue"] in html and "Referentie" in html


@pytest.mark.parametrize(("language", "title"), [
    ("fr", "Délai dépassé (2)"), ("en", "Overdue (2)"), ("de", "Frist überschritten (2)")])
def test_other_languages_have_their_section_titles(db, refs, language, title):
    _, text, html = render_digest(collect(db), language)
    assert f"== {title} ==" in text and title in html
    assert "Over tijd" not in text


def test_queue_records_once_and_never_twice(db, refs):
    settings = cf.settings()
    with db.sessions() as session, session.begin():
        first = queue_digests(session, settings, cf.NOW)
    assert [(o.scope, o.status) for o in first] == [("ago", "queued"), ("wse", "queued")]
    assert first[0].recipients == (cf.DIGEST_TO, cf.STAFF_AGO)
    assert first[1].recipients == (cf.DIGEST_TO, cf.STAFF_WSE)
    assert outbox_count(db) == 4
    with db.sessions() as session, session.begin():
        again = queue_digests(session, settings, cf.NOW + timedelta(hours=3), force=True)
    assert [o.status for o in again] == ["already_sent", "already_sent"]
    assert outbox_count(db) == 4
    with db.sessions() as session:
        runs = session.scalars(select(DigestRun).where(DigestRun.kind == "digest",
                                                       DigestRun.period == "2026-06-09")).all()
        assert sorted(r.scope for r in runs) == ["ago", "wse"]
        ago = next(r for r in runs if r.scope == "ago")
        assert ago.counts["overdue"] == 2 and ago.outbox_id == first[0].outbox_ids[0]
    # The next day is a new period; "new" then counts from this digest on.
    with db.sessions() as session, session.begin():
        next_day = queue_digests(session, settings, cf.NOW + timedelta(days=1))
    assert [o.status for o in next_day] == ["queued", "queued"]
    assert next_day[0].counts["new"] == 0


def test_empty_digest_is_recorded_not_sent_unless_asked(db):
    settings = cf.settings()
    with db.sessions() as session, session.begin():
        outcomes = queue_digests(session, settings, cf.NOW)
    assert [o.status for o in outcomes] == ["empty", "empty"]
    assert outbox_count(db) == 0
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun).where(
            DigestRun.kind == "digest", DigestRun.status == "empty")) == 2
    with db.sessions() as session, session.begin():
        sent = queue_digests(session, cf.settings(send_empty=True), cf.NOW + timedelta(days=1))
    assert [o.status for o in sent] == ["queued", "queued"]
    subject, text, _ = render_digest(collect(db, now=cf.NOW + timedelta(days=1)), "nl")
    assert "niets dringends" in subject and "Niets dat uw aandacht vraagt." in text


def test_no_staff_address_sends_and_records_nothing(db, refs):
    settings = cf.without_staff(cf.settings())
    with db.sessions() as session, session.begin():
        outcomes = queue_digests(session, settings, cf.NOW)
    assert [o.status for o in outcomes] == ["no_recipients", "no_recipients"]
    assert outbox_count(db) == 0
    with db.sessions() as session, session.begin():  # once staff exist, the day's digest goes
        assert queue_digests(session, cf.settings(), cf.NOW)[0].status == "queued"


def test_combined_digest_covers_every_mailbox(db, refs):
    settings = cf.settings(combined=True)
    with db.sessions() as session, session.begin():
        [outcome] = queue_digests(session, settings, cf.NOW)
    assert outcome.scope == ALL and outcome.status == "queued"
    assert outcome.recipients == (cf.DIGEST_TO, cf.STAFF_AGO, cf.STAFF_WSE)
    assert outcome.counts["overdue"] == 3
    digest = collect(db, ALL, settings)
    overdue = [line.reference for line in digest.section("overdue").lines]
    assert overdue == [refs["overdue"], refs["question_late"], refs["wse_overdue"]]
    assert render_digest(digest, "nl")[0].startswith("DPO-overzicht 2026-06-09 – alle mailboxen")
    wse = collect(db, "wse")
    assert [line.reference for s in wse.sections for line in s.lines] == [refs["wse_overdue"]]
    with db.sessions() as session, session.begin():
        assert queue_digests(session, settings, cf.NOW)[0].status == "already_sent"


def test_digest_delivered_to_the_smtp_server(db, refs, smtp_server):
    with db.sessions() as session, session.begin():
        queue_digests(session, cf.settings(), cf.NOW, scopes=["ago"])
    stats = flush_outbox(db.sessions, lambda: open_transport(smtp_server.settings()), 3,
                         now=lambda: cf.NOW)
    assert stats.sent == 2
    received = smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in received) == [cf.DIGEST_TO, cf.STAFF_AGO]
    msg: EmailMessage = email.message_from_bytes(received[0].data, policy=policy.default)
    assert received[0].mail_from == "dpo.ago@vlaanderen.be"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].startswith("<digest.ago.2026-06-09.")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert refs["overdue"] in text and refs["overdue"] in html
    assert cf.BODY_MARKER not in received[0].data.decode("ascii", "replace")
    with db.sessions() as session:
        assert {i.status for i in session.scalars(
            select(OutboxItem).where(OutboxItem.purpose == "digest"))} == {"sent"}


def test_heartbeat_logged_once_a_day(db, refs, caplog):
    settings = cf.settings()
    with caplog.at_level(logging.INFO, logger="intake.digest.queue"):
        with db.sessions() as session, session.begin():
            assert record_heartbeat(session, settings, cf.NOW)
        with db.sessions() as session, session.begin():
            assert not record_heartbeat(session, settings, cf.NOW + timedelta(hours=5))
    beats = [r for r in caplog.records if r.getMessage().startswith("digest heartbeat")]
    assert len(beats) == 1
    assert beats[0].open_cases == 10 and beats[0].overdue == 2 and beats[0].outbox_failed == 2
    with db.sessions() as session, session.begin():
        assert record_heartbeat(session, settings, cf.NOW + timedelta(days=1))
        runs = session.scalars(select(DigestRun).where(DigestRun.kind == "heartbeat")).all()
        assert sorted(r.period for r in runs) == ["2026-06-09", "2026-06-10"]


def test_cli_preview_shows_and_records_nothing(db, refs, tmp_path, capsys):
    config = _write_settings(tmp_path, db.url)
    html = tmp_path / "digest.html"
    code = main(["--config", str(config), "digest", "--preview", "--mailbox", "ago",
                 "--at", "2026-06-09T08:00", "--html", str(html)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Subject: DPO-overzicht 2026-06-09" in out and "== Over tijd (2) ==" in out
    assert refs["overdue"] in out and refs["wse_overdue"] not in out
    assert refs["overdue"] in html.read_text(encoding="utf-8")
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 1  # the fixture's
    assert outbox_count(db) == 0


def test_cli_send_queues_and_delivers_once(db, refs, tmp_path, capsys, smtp_server):
    config = _write_settings(tmp_path, db.url, smtp_server)
    assert main(["--config", str(config), "digest", "--send", "--mailbox", "wse"]) == 0
    out = capsys.readouterr().out
    assert "wse" in out and "queued for dpo.office@example.be, privacy.team@wse.example.be" in out
    assert "outbox: 2 sent" in out
    assert len(smtp_server.wait_for(2)) == 2
    assert main(["--config", str(config), "digest", "--send", "--mailbox", "wse"]) == 0
    assert "already recorded for this day" in capsys.readouterr().out
    assert len(smtp_server.received) == 2
    assert main(["--config", str(config), "digest", "--send", "--mailbox", "nope"]) == 2


def _write_settings(tmp_path, db_url: str, smtp=None):
    path = tmp_path / "intake.toml"
    if smtp is None:
        outbound = f'transport = "file"\nfile_dir = "{tmp_path / "sent"}"\n'
    else:
        outbound = (f'transport = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\n'
                    f'tls = "starttls"\nca_file = "{smtp.ca_file}"\n'
                    f'username = "{smtp.username}"\npassword_env = "{smtp.password_env}"\n')
    boxes = ""
    for m in cf.settings().mailboxes:
        boxes += (f'\n[[mailbox]]\nkey = "{m.key}"\ncontroller = "{m.controller}"\n'
                  f'address = "{m.address}"\nreference_prefix = "{m.reference_prefix}"\n'
                  f'staff = ["{m.staff[0]}"]\n\n[mailbox.maildir]\npath = "{tmp_path / m.key}"\n')
    path.write_text(f'[database]\nurl = "{db_url}"\n\n[smtp]\n{outbound}\n'
                    f'[digest]\nto = ["{cf.DIGEST_TO}"]\n{boxes}', encoding="utf-8")
    return path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)


def test_every_language_has_every_staff_word():
    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        return type(value).__name__

    dutch = shape(dict(staff_words("nl")))
    for language in ("fr", "en", "de"):
        assert shape(dict(staff_words(language))) == dutch, language


def test_review_reasons_are_translated_part_by_part():
    from intake.digest.render import _review_reason

    words = staff_words("nl")
    assert _review_reason("rules and model disagree: access; near threshold: complaint",
                          words) == ("regels en model zijn het oneens: inzage; "
                                     "score dicht bij de drempel: klacht")
    assert _review_reason("near threshold: question", words) == "score dicht bij de drempel: vraag"
    assert _review_reason("read as a question, rights set aside: complaint, access",
                          words) == "gelezen als vraag, rechten opzijgezet: klacht, inzage"
    assert _review_reason("something new", words) == "something new"
