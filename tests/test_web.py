"""The web console without a browser: roles, settings, headers, sessions, and the case operations
through the HTTP forms on SQLite and PostgreSQL (the browser tests cover the rest)."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from intake.config import ConfigError, Secret, WebSettings, WebUser, parse_settings
from intake.store.models import Event
from intake.web.app import create_app
from intake.web.auth import User, user_from_claims
from tests import casefactory
from tests.fixtures.webapp import console_settings, populated

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEYS = ("ago", "wse")


def test_roles_from_the_claim() -> None:
    web = WebSettings()
    user = user_from_claims({"email": "A@x.be", "name": "A", "roles": ["viewer", "handler"]},
                            web, KEYS)
    assert (user.login, user.role, user.mailboxes) == ("a@x.be", "handler", None)
    user = user_from_claims({"email": "w@x.be", "roles": ["handler:wse", "viewer"]}, web, KEYS)
    assert (user.role, user.mailboxes) == ("handler", ("wse",))
    assert user.sees("wse") and not user.sees("ago")
    assert user_from_claims({"email": "n@x.be", "roles": ["root", "handler:nope"]}, web,
                            KEYS) is None
    assert user_from_claims({"email": "n@x.be"}, web, KEYS) is None
    # a space-separated claim works too
    assert user_from_claims({"sub": "s1", "roles": "admin"}, web, KEYS).can("handler")


def test_local_mapping_wins_over_the_claim() -> None:
    web = WebSettings(users=(WebUser("w@x.be", "viewer", ("wse",)),))
    user = user_from_claims({"email": "W@x.be", "roles": ["admin"]}, web, KEYS)
    assert (user.role, user.mailboxes) == ("viewer", ("wse",))
    assert User.from_session(user.to_session()) == user


def test_web_settings_are_checked() -> None:
    base = {"mailbox": [{"key": "ago", "controller": "A", "address": "a@x.be",
                         "reference_prefix": "DPO-A", "maildir": {"path": "m"}}]}
    s = parse_settings({**base, "web": {"base_url": "https://dpo.example.be/intake/",
                                        "oidc_client_secret_env": "X",
                                        "user": [{"login": "An@x.be", "role": "handler",
                                                  "mailboxes": ["ago"]}]}}, "t")
    assert s.web.base_url == "https://dpo.example.be/intake"
    assert s.web.users == (WebUser("an@x.be", "handler", ("ago",)),)
    for bad, key in (({"oidc_client_secret": "x"}, "oidc_client_secret"),
                     ({"base_url": "dpo.example.be"}, "base_url"),
                     ({"user": [{"login": "a", "mailboxes": ["wse"]}]}, "mailboxes"),
                     ({"user": [{"login": "a", "role": "root"}]}, "role"),
                     ({"colour": "red"}, "colour")):
        with pytest.raises(ConfigError, match=key):
            parse_settings({**base, "web": bad}, "t")


def test_the_app_needs_a_secret_and_a_provider(tmp_path) -> None:
    s = console_settings(f"sqlite:///{tmp_path / 'x.db'}", None)
    with pytest.raises(ConfigError, match="oidc_issuer"):
        create_app(s)
    with pytest.raises(ConfigError, match="session secret"):
        create_app(replace(s, web=replace(s.web, session_secret=Secret())))
    create_app(replace(s, web=replace(s.web, session_secret=Secret())), demo=True)


def _client(db, demo_host: str = "127.0.0.1") -> tuple[TestClient, dict[str, str]]:
    with db.sessions() as session, session.begin():
        refs = casefactory.populate(session)
    app = create_app(console_settings(db.url, None), demo=True, clock=lambda: casefactory.NOW)
    return TestClient(app, base_url="http://127.0.0.1", client=(demo_host, 50000)), refs


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(client: TestClient, who: str) -> str:
    token = _token(client.get("/login").text)
    answer = client.post("/login/demo", data={"csrf": token, "who": who})
    assert answer.status_code == 200 and answer.url.path == "/"
    return _token(answer.text)


@pytest.mark.db
def test_operations_through_the_forms(db) -> None:
    client, refs = _client(db)
    assert client.get("/").status_code == 200 and client.get("/").url.path == "/login"
    token = _sign_in(client, "behandelaar")
    page = client.get("/")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "no-store"
    assert "Demo: lokale aanmelding" in page.text
    answer = client.post(f"/cases/{refs['new']}/assign",
                         data={"csrf": token, "person": "Lien <script>"})
    assert "Lien &lt;script&gt;" in answer.text and "<script>" not in answer.text
    answer = client.post(f"/cases/{refs['new']}/note", data={"csrf": token, "text": ""})
    assert "Niet toegestaan" in answer.text  # the operation's own check, in words
    client.post(f"/cases/{refs['overdue']}/extend", data={"csrf": token, "reason": "veel"})
    with db.sessions() as session:
        events = session.execute(select(Event.type, Event.actor).order_by(Event.id)).all()
    assert ("assigned", "Demo Behandelaar <behandelaar@demo.invalid>") in events
    assert ("extension_refused", "Demo Behandelaar <behandelaar@demo.invalid>") in events
    assert client.post(f"/cases/{refs['new']}/note", data={"text": "x"}).status_code == 403
    csv = client.get("/register.csv")
    assert csv.text.splitlines()[0].startswith("reference,controller")
    assert len(csv.text.splitlines()) == 12  # header + 11 cases; no personal data
    assert "Janssens" not in csv.text


@pytest.mark.db
def test_mailbox_handler_and_viewer(db) -> None:
    client, refs = _client(db)
    token = _sign_in(client, "behandelaar-wse")
    assert refs["overdue"] not in client.get("/").text
    assert client.get(f"/cases/{refs['overdue']}").status_code == 403
    assert client.post(f"/cases/{refs['overdue']}/note",
                       data={"csrf": token, "text": "x"}).status_code == 403
    assert refs["overdue"] not in client.get("/register.csv").text
    register = client.get("/register").text
    assert refs["wse_overdue"] in register and refs["overdue"] not in register
    assert client.get("/digest?scope=ago").status_code == 403
    assert client.get("/settings").status_code == 403
    client.cookies.clear()
    _sign_in(client, "lezer")
    page = client.get(f"/cases/{refs['wse_overdue']}")
    assert page.status_code == 200 and casefactory.BODY_MARKER not in page.text
    assert client.get("/messages/1").status_code == 403
    assert client.get("/new").status_code == 403


def test_demo_sign_in_only_from_the_machine_itself(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    populated(url)
    app = create_app(console_settings(url, None), demo=True, clock=lambda: casefactory.NOW)
    client = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.10", 50000))
    token = _token(client.get("/login").text)
    assert client.post("/login/demo", data={"csrf": token, "who": "beheerder"}
                       ).status_code == 403


def test_session_cookie_flags(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    s = console_settings(url, None)
    s = replace(s, web=replace(s.web, secure_cookies=True, oidc_issuer="https://idp.invalid"))
    populated(url)
    app = create_app(s, clock=lambda: casefactory.NOW)
    client = TestClient(app, base_url="https://dpo.example.be")
    answer = client.get("/lang/fr", follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert answer.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.db
def test_the_digest_links_every_case_to_its_page(db) -> None:
    from intake.digest import collect_digest, render_digest

    with db.sessions() as session, session.begin():
        refs = casefactory.populate(session)
    with db.sessions() as session:
        digest = collect_digest(session, casefactory.settings(), "ago", casefactory.NOW)
    base = "https://dpo.example.be/intake"
    _subject, text, html = render_digest(digest, "nl", base_url=base)
    link = f"{base}/cases/{refs['overdue']}"
    assert f'<a href="{link}">{refs["overdue"]}</a>' in html
    assert f"    {link}\n" in text
    assert "/cases/—" not in html  # a quarantined message has no case and no link
    _subject, text, html = render_digest(digest, "nl")
    assert "/cases/" not in text and "/cases/" not in html


@pytest.mark.db
def test_worklist_order_filters_and_search(db) -> None:
    from datetime import date

    from intake.web.worklist import Filters, build_worklist

    with db.sessions() as session, session.begin():
        refs = casefactory.populate(session)
    s, today = casefactory.settings(), casefactory.NOW.date()

    def find(**filters) -> list[str]:
        with db.sessions() as session:
            result = build_worklist(session, s, KEYS, Filters(**filters), today)
        return [row.reference for row in result.rows]

    with db.sessions() as session:
        result = build_worklist(session, s, KEYS, Filters(), today)
    assert [row.bucket for row in result.rows][:4] == ["overdue"] * 3 + ["due_soon"]
    assert result.rows[0].reference == refs["overdue"] and result.rows[0].left == -11
    assert result.rows[0].rights == ["access", "erasure"]
    assert refs["closed"] not in [row.reference for row in result.rows]
    assert result.counts["identity"] == 1 and result.total == 10
    assert find(q="JANSSENS") == [refs["overdue"]]
    assert find(q="dpo-wse") == [refs["wse_overdue"]]
    assert find(mailbox="wse") == [refs["wse_overdue"]]
    assert find(right="portability") == [refs["due_soon"]]
    assert find(assignee="an.dev") == [refs["overdue"]]
    assert find(status="awaiting_identity") == [refs["identity"]]
    assert set(find(needs_review=True)) == {refs["review_question"], refs["review_sender"]}
    assert find(due_before=date(2026, 6, 1)) == [refs["overdue"], refs["wse_overdue"]]
    assert find(q="%") == []  # no wildcard injection
    with db.sessions() as session:
        only_wse = build_worklist(session, s, ["wse"], Filters(mailbox="ago"), today)
    assert only_wse.rows == []


def test_a_failing_page_says_so_in_words(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    populated(url)
    s = console_settings(url, None)
    s = replace(s, web=replace(s.web, oidc_issuer="http://127.0.0.1:9"))  # nobody listens
    client = TestClient(create_app(s, clock=lambda: casefactory.NOW), raise_server_exceptions=False)
    answer = client.get("/login")
    assert answer.status_code == 500
    assert "Er ging iets mis" in answer.text and "Traceback" not in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.db
def test_identity_reclassify_close_and_reopen_through_the_forms(db) -> None:
    from intake.store.models import Case, OutboxItem

    client, refs = _client(db)
    token = _sign_in(client, "behandelaar")
    waiting = refs["identity"]
    answer = client.post(f"/cases/{waiting}/identity", data={
        "csrf": token, "received": "kopie identiteitskaart per post", "on": "2026-06-08",
        "status": "id_copy"})
    assert "de termijn loopt weer" in answer.text
    answer = client.post(f"/cases/{waiting}/identity", data={
        "csrf": token, "received": "x", "on": "2026-07-01"})
    assert "Niet toegestaan" in answer.text  # proof cannot arrive in the future
    answer = client.post(f"/cases/{refs['review_question']}/reclassify", data={
        "csrf": token, "rights": ["access", "erasure"], "reason": "toch een verzoek"})
    assert "rechten nu: inzage, wissing" in answer.text
    answer = client.post(f"/cases/{refs['new']}/reclassify", data={
        "csrf": token, "rights": ["not-a-right"]})
    assert "Niet toegestaan" in answer.text and "not-a-right" in answer.text
    answer = client.post(f"/cases/{refs['new']}/close", data={"csrf": token,
                                                             "outcome": "withdrawn"})
    assert "afgesloten (ingetrokken) op 9 juni 2026" in answer.text
    answer = client.post(f"/cases/{refs['new']}/reopen", data={"csrf": token, "reason": ""})
    assert "Niet toegestaan" in answer.text
    answer = client.post(f"/cases/{refs['new']}/reopen", data={"csrf": token,
                                                              "reason": "bezwaar tegen antwoord"})
    assert "Gedaan: heropend" in answer.text
    with db.sessions() as session:
        case = session.scalars(select(Case).where(Case.reference == waiting)).one()
        assert case.status == "open" and case.clock_suspended_on is None
        question = session.scalars(select(Case).where(
            Case.reference == refs["review_question"])).one()
        assert question.kind == "request" and not question.needs_review
        purposes = session.scalars(select(OutboxItem.purpose).where(
            OutboxItem.case_id == case.id)).all()
        assert "identity_confirmation" in purposes
        types = session.scalars(select(Event.type).where(Event.case_id == case.id)).all()
        assert "identity_received" in types or "clock_resumed" in types


class _Controls(HTMLParser):
    """Form controls and the label targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values)


@pytest.mark.db
def test_every_control_has_a_label_and_redirects_stay_local(db) -> None:
    client, refs = _client(db)
    _sign_in(client, "beheerder")
    for path in ("/", f"/cases/{refs['overdue']}", f"/cases/{refs['closed']}", "/new",
                 "/listed", "/register", "/settings"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<main id="inhoud"' in page.text and "<nav" in page.text and "<header" in page.text
        parser = _Controls()
        parser.feed(page.text)
        unlabelled = [c for c in parser.controls if c.get("id") not in parser.labels]
        assert not unlabelled, (path, unlabelled)
    for target in ("//evil.example", "/\\evil.example", "https://evil.example"):
        answer = client.get(f"/lang/en?next={target}", follow_redirects=False)
        assert answer.headers["location"] == "/"


def test_the_demo_command_refuses_to_listen_beyond_loopback(tmp_path, capsys) -> None:
    from intake.cli import main

    config = tmp_path / "intake.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert main(["--config", str(config), "web", "--demo", "--host", "0.0.0.0"]) == 2
    assert "only listens on 127.0.0.1" in capsys.readouterr().err
    assert main(["--config", str(config), "web", "--at", "2026-04-01T08:00"]) == 2
    assert main(["--config", str(config), "web"]) == 2  # no provider, no session secret
    assert "web." in capsys.readouterr().err


@pytest.mark.db
def test_no_case_outcome_goes_through_the_adapter(db) -> None:
    import inspect

    from intake.cases import operations

    client, refs = _client(db)
    token = _sign_in(client, "behandelaar")
    answer = client.post(f"/cases/{refs['review_question']}/reclassify",
                         data={"csrf": token, "no_case": "1", "rights": ["access"]})
    assert "Niet toegestaan" in answer.text  # "no case" goes without rights
    answer = client.post(f"/cases/{refs['review_question']}/reclassify",
                         data={"csrf": token, "no_case": "1"})
    if "no_case" not in inspect.signature(operations.reclassify).parameters:
        assert "nog niet beschikbaar" in answer.text
    else:
        assert "Gedaan: geen dossier" in answer.text or "Niet toegestaan" in answer.text
