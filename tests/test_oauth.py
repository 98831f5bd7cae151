"""OAuth2 app-only logins (XOAUTH2) against real servers: Dovecot with an oauth2 passdb, the
aiosmtpd server with an XOAUTH2 authenticator, both checking tokens at a local OAuth2 authority."""

from __future__ import annotations

import logging
import time

import pytest

from intake.config import Secret
from intake.oauth import TokenProvider, forget_providers, provider_for, xoauth2_base64
from intake.outbound.transport import SmtpTransport, TransportError
from intake.source.base import SourceError
from intake.source.imap import ImapSource
from tests.fixtures.oauth import CERT_ENV, CLIENT_SECRET, SECRET_ENV, Client, make_certificate

pytestmark = [pytest.mark.imap, pytest.mark.smtp]
USER = "dpo.test@intake.test"
MAIL = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n\r\nHallo\r\n"


def imap_source(server, oauth, **oauth_overrides) -> ImapSource:
    settings = server.imap_settings(
        auth="oauth2", password=Secret(), oauth2=oauth.settings(**oauth_overrides)
    )
    return ImapSource("ago", settings)


def smtp_transport(smtp_server, oauth, user: str = USER, **oauth_overrides) -> SmtpTransport:
    settings = smtp_server.settings(
        username=user, password=Secret(), auth="oauth2", oauth2=oauth.settings(**oauth_overrides)
    )
    return SmtpTransport(settings)


def test_imap_token_obtained_and_used(imap_oauth, oauth, caplog):
    caplog.set_level(logging.DEBUG)
    imap_oauth.append(MAIL)
    before = oauth.introspections
    source = imap_source(imap_oauth, oauth)
    source.connect()
    try:
        assert source.pending_uids() == imap_oauth.uids()
    finally:
        source.close()
    assert oauth.introspections > before  # Dovecot asked the authority about the token
    provider = provider_for(source.settings.oauth2)
    assert provider.fetched == 1
    # A second connection reuses the cached token.
    source.connect()
    source.close()
    assert provider.fetched == 1
    token = provider.token()
    assert token not in caplog.text and CLIENT_SECRET not in caplog.text
    assert xoauth2_base64(USER, token) not in caplog.text


def test_imap_token_refreshed_before_expiry(imap_oauth, oauth):
    oauth.lifetime = 3  # refreshed a tenth of its lifetime before it expires
    source = imap_source(imap_oauth, oauth)
    source.connect()
    source.close()
    provider = provider_for(source.settings.oauth2)
    first = provider.token()
    time.sleep(3.1)  # the first token has now expired at the authority
    source.connect()
    source.close()
    assert provider.fetched == 2
    assert provider.token() != first


def test_imap_revoked_token_is_replaced_once(imap_oauth, oauth):
    source = imap_source(imap_oauth, oauth)
    source.connect()
    source.close()
    provider = provider_for(source.settings.oauth2)
    revoked = provider.token()
    oauth.revoke_all()  # the cached token is still "valid" by its expiry, but refused
    source.connect()
    source.close()
    assert provider.fetched == 2
    assert provider.token() != revoked


def test_imap_disabled_app_is_a_clean_error(imap_oauth, oauth):
    source = imap_source(imap_oauth, oauth)
    source.connect()
    source.close()
    oauth.revoke_all()
    oauth.clients["11111111-2222-3333-4444-555555555555"].disabled = True
    with pytest.raises(SourceError, match="disabled"):
        source.connect()
    assert not source.connected


def test_imap_wrong_secret_is_named(imap_oauth, oauth, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    source = imap_source(imap_oauth, oauth)
    with pytest.raises(SourceError) as caught:
        source.connect()
    assert "client secret" in str(caught.value) and "wrong" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)


def test_imap_wrong_tenant_is_named(imap_oauth, oauth):
    source = imap_source(imap_oauth, oauth, tenant="someone-else")
    with pytest.raises(SourceError, match="tenant someone-else not found"):
        source.connect()


def test_imap_mailbox_without_permission_is_refused(imap_oauth, oauth):
    settings = imap_oauth.imap_settings(
        username="other.test@intake.test", auth="oauth2", password=Secret(),
        oauth2=oauth.settings(),
    )
    with pytest.raises(SourceError, match="access to this mailbox"):
        ImapSource("wse", settings).connect()


def test_imap_certificate_credential(imap_oauth, oauth, tmp_path, monkeypatch):
    cert, key, thumbprint = make_certificate(tmp_path, "app", cn="intake-app")
    oauth.add_client(Client("99999999-2222-3333-4444-555555555555",
                            certificate_pem=cert.read_bytes(), mailboxes=(USER,)))
    monkeypatch.setenv(CERT_ENV, key.read_text())
    source = imap_source(
        imap_oauth, oauth, client_id="99999999-2222-3333-4444-555555555555",
        client_secret=Secret(), certificate=Secret(env=CERT_ENV),
        certificate_thumbprint=thumbprint,
    )
    source.connect()
    source.close()
    # The wrong thumbprint: the authority refuses the assertion.
    wrong = imap_source(
        imap_oauth, oauth, client_id="99999999-2222-3333-4444-555555555555",
        client_secret=Secret(), certificate=Secret(env=CERT_ENV),
        certificate_thumbprint="0" * 40,
    )
    oauth.clients["99999999-2222-3333-4444-555555555555"].certificate_pem = make_certificate(
        tmp_path, "other")[0].read_bytes()
    with pytest.raises(SourceError, match="certificate"):
        wrong.connect()


def test_smtp_xoauth2_send(smtp_server_oauth, oauth, caplog):
    caplog.set_level(logging.DEBUG)
    transport = smtp_transport(smtp_server_oauth, oauth)
    result = transport.send(USER, ["jan@example.be"], MAIL)
    assert result.startswith("250")
    (mail,) = smtp_server_oauth.wait_for(1)
    assert mail.user == USER
    token = provider_for(transport.settings.oauth2).token()
    assert token not in caplog.text and CLIENT_SECRET not in caplog.text
    assert xoauth2_base64(USER, token) not in caplog.text


def test_smtp_revoked_token_is_replaced_once(smtp_server_oauth, oauth):
    transport = smtp_transport(smtp_server_oauth, oauth)
    transport.send(USER, ["jan@example.be"], MAIL)
    provider = provider_for(transport.settings.oauth2)
    oauth.revoke_all()
    transport.send(USER, ["jan@example.be"], MAIL)
    assert provider.fetched == 2
    assert len(smtp_server_oauth.wait_for(2)) == 2


def test_smtp_refused_mailbox_and_wrong_secret(smtp_server_oauth, oauth, monkeypatch):
    other = smtp_transport(smtp_server_oauth, oauth, user="other.test@intake.test")
    with pytest.raises(TransportError) as caught:
        other.send("other.test@intake.test", ["jan@example.be"], MAIL)
    assert caught.value.stage == "auth" and "XOAUTH2 login refused" in str(caught.value)
    monkeypatch.setenv(SECRET_ENV, "wrong-secret")
    forget_providers()  # the secret is read when the app is first built
    transport = smtp_transport(smtp_server_oauth, oauth)
    with pytest.raises(TransportError) as caught:
        transport.send(USER, ["jan@example.be"], MAIL)
    assert caught.value.stage == "auth" and not caught.value.permanent
    assert "client secret" in str(caught.value) and "wrong-secret" not in str(caught.value)
    assert smtp_server_oauth.received == []


def test_token_is_renewed_five_minutes_before_expiry(oauth):
    now = [1000.0]
    provider = TokenProvider(oauth.settings(), clock=lambda: now[0])  # lifetime 3600 s
    first = provider.token()
    now[0] += 3600 - 301
    assert provider.token() == first and provider.fetched == 1
    now[0] += 2  # within the last 300 s: a new token, before the old one expires
    assert provider.token() != first and provider.fetched == 2
    provider.invalidate("some-other-token")  # only the token that was refused is dropped
    assert provider.fetched == 2 and provider.token()
    assert provider.fetched == 2
