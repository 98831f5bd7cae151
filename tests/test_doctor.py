"""`intake config check --connect` against the real test servers: one plain line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from intake.config import Secret
from intake.doctor import check_connections, check_mailbox, check_smtp
from tests.fixtures.oauth import CLIENT_ID, CLIENT_SECRET, SECRET_ENV
from tests.fixtures.pipeline import AGO, mailbox, make_settings

pytestmark = [pytest.mark.imap, pytest.mark.smtp]
ROOT = Path(__file__).resolve().parent.parent
USER = "dpo.test@intake.test"


def oauth_mailbox(imap_oauth, oauth, **imap_overrides):
    values = {"auth": "oauth2", "password": Secret(), "oauth2": oauth.settings(), **imap_overrides}
    return mailbox(AGO, imap_oauth.imap_settings(**values))


def failures(findings) -> list[str]:
    return [f.line() for f in findings if not f.ok]


def test_everything_works(imap_oauth, smtp_server_oauth, oauth):
    imap_oauth.append(b"Subject: x\r\n\r\nx\r\n", folder="Verwerkt")
    box = oauth_mailbox(imap_oauth, oauth, after="move", move_to="Verwerkt")
    smtp = smtp_server_oauth.settings(username=USER, password=Secret(), auth="oauth2",
                                      oauth2=oauth.settings())
    findings = check_connections(make_settings("sqlite://", [box], smtp))
    assert failures(findings) == []
    assert [f.what.split(" (")[0] for f in findings] == [
        "mailbox ago", "mailbox ago", "mailbox ago", f"SMTP {USER} at 127.0.0.1:"
        f"{smtp_server_oauth.port} token", f"SMTP {USER} at 127.0.0.1:{smtp_server_oauth.port}",
    ]


def test_problems_in_plain_words(imap_oauth, oauth, monkeypatch):
    cases = {
        "wrong tenant": oauth_mailbox(imap_oauth, oauth, oauth2=oauth.settings(tenant="other")),
        "mailbox not found or permission missing": oauth_mailbox(
            imap_oauth, oauth, username="other.test@intake.test"),
        "folder missing": oauth_mailbox(imap_oauth, oauth, quarantine_to="Quarantaine"),
        "permission missing": oauth_mailbox(
            imap_oauth, oauth, oauth2=oauth.settings(scope="https://graph.example/.default")),
        "connection refused": oauth_mailbox(imap_oauth, oauth, port=1),
        "TLS failure": oauth_mailbox(imap_oauth, oauth, ca_file=""),
    }
    for words, box in cases.items():
        lines = failures(check_mailbox(box))
        assert len(lines) == 1 and words in lines[0], (words, lines)
    monkeypatch.setenv(SECRET_ENV, "expired-or-wrong")
    from intake.oauth import forget_providers

    forget_providers()
    (line,) = failures(check_mailbox(oauth_mailbox(imap_oauth, oauth)))
    assert "invalid_client" in line and "client secret" in line
    assert "expired-or-wrong" not in line


def test_smtp_refused_login(smtp_server_oauth, oauth):
    smtp = smtp_server_oauth.settings(username="other.test@intake.test", password=Secret(),
                                      auth="oauth2", oauth2=oauth.settings())
    (line,) = failures(check_smtp(smtp))
    assert "permission missing or mailbox not found" in line


def test_cli_exit_code(imap_oauth, oauth, tmp_path):
    ca = oauth.ca_file
    path = tmp_path / "intake.toml"
    path.write_text(f"""
[[mailbox]]
key = "ago"
controller = "AgO"
address = "{USER}"
reference_prefix = "DPO-AGO"

[mailbox.imap]
host = "127.0.0.1"
port = {imap_oauth.tls_port}
ca_file = "{imap_oauth.ca_file}"
auth = "oauth2"
tenant = "{oauth.tenant}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
authority = "{oauth.base}/{{tenant}}"
authority_ca_file = "{ca}"
after = "move"
move_to = "Bestaat-Niet"
""")
    env = {"PATH": "/usr/bin:/bin", SECRET_ENV: CLIENT_SECRET}
    run = subprocess.run(
        [sys.executable, "-m", "intake.cli", "config", "check", "--connect", str(path)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ok   mailbox ago" in run.stdout
    assert "FAIL mailbox ago" in run.stdout and "folder missing: 'Bestaat-Niet'" in run.stdout
    assert "1 problem(s)" in run.stdout
    assert CLIENT_SECRET not in run.stdout + run.stderr
