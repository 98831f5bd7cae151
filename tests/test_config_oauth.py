"""Settings for Microsoft 365 OAuth2: auth = "oauth2" in [mailbox.imap] and [smtp]."""

from __future__ import annotations

import pytest

from intake.config import EXCHANGE_SCOPE, ConfigError, Secret, parse_settings

MAILBOX = {
    "key": "ago", "controller": "AgO", "address": "dpo.ago@vlaanderen.be",
    "reference_prefix": "DPO-AGO",
}


def settings(imap: dict, smtp: dict | None = None):
    imap = {"host": "outlook.office365.com", **imap}
    return parse_settings(
        {"smtp": smtp or {}, "mailbox": [{**MAILBOX, "imap": imap}]}, "test.toml"
    )


def test_oauth2_mailbox_with_secret():
    s = settings({"auth": "oauth2", "tenant": "contoso.onmicrosoft.com",
                  "client_id": "0b1c2d3e-aaaa-bbbb-cccc-123456789abc",
                  "client_secret_credential": "m365-secret"})
    imap = s.mailboxes[0].imap
    assert imap.auth == "oauth2" and imap.username == "dpo.ago@vlaanderen.be"
    assert imap.oauth2.client_secret == Secret(credential="m365-secret")
    assert imap.oauth2.authority_url == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert imap.oauth2.scope == EXCHANGE_SCOPE
    assert "m365-secret" in imap.oauth2.describe()


def test_oauth2_smtp_with_certificate():
    s = settings(
        {"password_env": "X"},
        {"transport": "smtp", "host": "smtp.office365.com", "username": "dpo.ago@vlaanderen.be",
         "auth": "oauth2", "tenant": "t1", "client_id": "c1",
         "certificate_credential": "m365-key",
         "certificate_thumbprint": "AB:" * 19 + "CD"},
    )
    assert s.smtp.oauth2.certificate == Secret(credential="m365-key")
    assert s.smtp.oauth2.certificate_thumbprint == "ab" * 19 + "cd"


@pytest.mark.parametrize(("imap", "key", "words"), [
    ({"auth": "oauth2", "client_id": "c", "client_secret_env": "S"}, "tenant", "required"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c"}, "client_secret_env", "either"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "client_secret": "x"},
     "client_secret", "never go in the settings file"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "client_secret_env": "S",
      "certificate_credential": "K", "certificate_thumbprint": "a" * 40},
     "client_secret_env", "not both"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "certificate_credential": "K"},
     "certificate_thumbprint", "40 hex"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "client_secret_env": "S",
      "password_env": "P"}, "password_env", "uses no password"),
    ({"password_env": "P", "tenant": "t"}, "tenant", 'only used with auth = "oauth2"'),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "client_secret_env": "S",
      "authority": "http://login.example"}, "authority", "https"),
    ({"auth": "oauth2", "tenant": "t", "client_id": "c", "client_secret_env": "S",
      "tennant": "x"}, "tennant", "unknown key"),
    ({"auth": "kerberos", "password_env": "P"}, "auth", "not one of"),
])
def test_oauth2_mistakes_are_named(imap, key, words):
    with pytest.raises(ConfigError) as caught:
        settings(imap)
    assert caught.value.key.endswith(key) and words in caught.value.problem


def test_oauth2_smtp_needs_the_address():
    with pytest.raises(ConfigError, match="address to log in as"):
        settings({"password_env": "P"}, {"transport": "smtp", "auth": "oauth2", "tenant": "t",
                                         "client_id": "c", "client_secret_env": "S"})
