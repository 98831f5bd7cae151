"""Signing out of the console: at the OpenID provider too when it announces an end-session
endpoint (RP-initiated logout), else here only, and never straight back in through /login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.oidc import CLIENT_ID, Provider, start_provider
from tests.fixtures.webapp import console_settings, populated, serve


def _sign_in(client: httpx.Client, login: str) -> str:
    """The code flow through the stand-in provider; returns the page's CSRF token."""
    choose = client.get("/login", follow_redirects=True)  # the provider's page
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', choose.text))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    start = client.post(str(choose.url.copy_with(path="/authorize", query=None)),
                        data={**fields, "login": login}, follow_redirects=True)
    assert start.status_code == 200 and start.url.path == "/", start.text[:300]
    return re.search(r'name="csrf" value="([^"]+)"', start.text).group(1)


@pytest.fixture
def console(tmp_path) -> Iterator:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    populated(url)

    def run(provider: Provider):
        return serve(console_settings(url, provider))
    yield run


def test_sign_out_at_the_provider(console, oidc_provider) -> None:
    assert "end_session_endpoint" in oidc_provider.metadata()
    for base in console(oidc_provider):
        with httpx.Client(base_url=base, timeout=30) as client:
            page = client.get("/login", follow_redirects=False)
            assert page.status_code in (302, 303, 307)
            token = _sign_in(client, "an.handler@example.be")
            csp = client.get("/").headers["content-security-policy"]
            assert f"form-action 'self' {oidc_provider.issuer};" in csp
            answer = client.post("/logout", data={"csrf": token})
            assert answer.status_code == 303
            target = urlsplit(answer.headers["location"])
            assert f"{target.scheme}://{target.netloc}{target.path}" == \
                f"{oidc_provider.issuer}/logout"
            query = {k: v[0] for k, v in parse_qs(target.query).items()}
            assert query["client_id"] == CLIENT_ID
            assert query["post_logout_redirect_uri"] == f"{base}/signed-out"
            assert query["id_token_hint"].count(".") == 2  # the ID token of this sign-in
            back = client.get(answer.headers["location"], follow_redirects=True)
            assert back.status_code == 200 and back.url.path == "/signed-out"
            assert "U bent afgemeld." in back.text and 'href="/login"' in back.text
            assert oidc_provider.logouts[-1]["email"] == "an.handler@example.be"
            # Signed out here as well: the pages ask for a sign-in again.
            assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)
            assert client.post("/logout", data={"csrf": token}).status_code == 403


def test_sign_out_here_when_the_provider_has_no_end_session(console) -> None:
    provider, server = start_provider(end_session=False)
    try:
        assert "end_session_endpoint" not in provider.metadata()
        for base in console(provider):
            with httpx.Client(base_url=base, timeout=30) as client:
                token = _sign_in(client, "vic.viewer@example.be")
                answer = client.post("/logout", data={"csrf": token})
                assert answer.status_code == 303
                assert answer.headers["location"] == "/signed-out?local=1"
                page = client.get("/signed-out?local=1")
                # Not sent on to /login (the provider would sign one in again at once).
                assert page.status_code == 200 and "sluit de browser" in page.text
                assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)
        assert provider.logouts == []
    finally:
        server.shutdown()
        server.server_close()
