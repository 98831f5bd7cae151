"""Settings: the examples validate; every mistake is named by file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from intake.cli import main
from intake.config import ConfigError, Secret, load_settings

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "dpo.ago@vlaanderen.be"
reference_prefix = "DPO-AGO"
[mailbox.maildir]
path = "mail/ago"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_settings_validate():
    settings = load_settings(ROOT / "examples" / "intake.example.toml")
    assert [m.key for m in settings.mailboxes] == ["wse", "ago"]
    ago = settings.mailbox("ago")
    assert ago.imap is not None and ago.imap.oauth2.client_secret.credential == "m365-app-secret"
    assert ago.extra_holidays == ("07-11",)
    assert settings.smtp.auth == "oauth2" and settings.smtp.oauth2.certificate.configured
    assert "dpo.wse@vlaanderen.be" in settings.all_own_addresses


def test_demo_settings_resolve_paths_relative_to_the_file():
    settings = load_settings(ROOT / "examples" / "demo.toml")
    assert settings.database.url == f"sqlite:///{ROOT / 'var' / 'demo' / 'intake.db'}"
    assert settings.mailbox("wse").maildir.path == str(ROOT / "var" / "demo" / "mailbox" / "wse")


def test_defaults(tmp_path):
    settings = load_settings(write(tmp_path, MINIMAL))
    m = settings.mailbox("ago")
    assert m.reply_languages == ("nl",)
    assert m.extra_holidays == ("07-11",)
    assert m.maildir.path == str(tmp_path / "mail" / "ago")
    assert settings.smtp.transport == "file"


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ("[database]\nurll = 'x'\n", "database.urll", "unknown key"),
        ("[smtp]\nport = 'x'\n", "smtp.port", "whole number"),
        ("[smtp]\nport = 70000\n", "smtp.port", "not a TCP port"),
        ("[smtp]\npassword = 'hunter2'\n", "smtp.password", "never go in the settings file"),
        ("[smtp]\ntransport = 'smtp'\ntls = 'none'\n", "smtp.tls", "allow_plaintext"),
        ("[smtp]\ntransport = 'carrier-pigeon'\n", "smtp.transport", "not one of"),
        (
            "[smtp]\npassword_env = 'A'\npassword_credential = 'b'\n",
            "smtp.password_env",
            "not both",
        ),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path, extra, key, problem):
    path = write(tmp_path, extra + MINIMAL)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (("DPO-AGO", "dpo-ago"), "mailbox[0].reference_prefix", "upper-case"),
        (('key = "ago"', 'key = "A GO"'), "mailbox[0].key", "lower-case"),
        (('[mailbox.maildir]\npath = "mail/ago"', ""), "mailbox[0].imap", "needs"),
        (
            ('address = "dpo.ago@vlaanderen.be"', 'address = "nobody"'),
            "mailbox[0].address",
            "not an e-mail address",
        ),
        (
            ('key = "ago"', 'key = "ago"\nreply_languages = ["xx"]'),
            "mailbox[0].reply_languages",
            "not one of",
        ),
        (
            ('key = "ago"', 'key = "ago"\nextra_holidays = ["11 juli"]'),
            "mailbox[0].extra_holidays",
            "MM-DD",
        ),
        (
            ('key = "ago"', 'key = "ago"\nidentity_required_for = ["inzage"]'),
            "mailbox[0].identity_required_for",
            "not a right",
        ),
    ],
)
def test_mailbox_errors(tmp_path, change, key, problem):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert (info.value.key, problem in info.value.problem) == (key, True)


def test_imap_without_password_source_is_refused(tmp_path):
    text = MINIMAL.replace(
        '[mailbox.maildir]\npath = "mail/ago"', '[mailbox.imap]\nhost = "imap.example.org"'
    )
    with pytest.raises(ConfigError, match="password_env"):
        load_settings(write(tmp_path, text))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[[mailbox]\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_secret_from_environment_and_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_SECRET", "s3cret")
    assert Secret(env="INTAKE_TEST_SECRET").resolve() == "s3cret"
    monkeypatch.delenv("INTAKE_TEST_SECRET")
    with pytest.raises(ConfigError, match="not set"):
        Secret(env="INTAKE_TEST_SECRET").resolve()
    (tmp_path / "imap-pass").write_text("from-systemd\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert Secret(credential="imap-pass").resolve() == "from-systemd"
    with pytest.raises(ConfigError, match="cannot read credential"):
        Secret(credential="missing").resolve()


def test_config_check_command(tmp_path, capsys):
    assert main(["config", "check", "--file-only",
                 str(ROOT / "examples" / "intake.example.toml")]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "mailbox ago" in out and "credential m365-app-secret" in out
    bad = write(tmp_path, "[smtp]\npassword = 'hunter2'\n" + MINIMAL)
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "smtp.password" in err and "hunter2" not in err


def test_config_check_starts_without_heavy_imports():
    code = (
        "import sys; from intake.cli import main; main(['config', 'check', "
        f"{str(ROOT / 'examples' / 'intake.example.toml')!r}]); "
        "print(sorted(m for m in ('spacy', 'sqlalchemy', 'lingua') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip().endswith("[]")
