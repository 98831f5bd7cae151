"""`intake config check` refuses, with file, key and a fix, every setting that would fail at run
time — and reports them all in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.cli import main
from intake.config import DEFAULT_RULES_DIR

BASE = """
[database]
url = "{db}"

[smtp]
transport = "smtp"
host = "smtp.example.org"
username = "dpo-intake"
{smtp_secret}

[rules]
dir = "{rules}"

[model]
dir = "{model}"

[run]
state_dir = "{state}"

[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "dpo.ago@vlaanderen.be"
reference_prefix = "DPO-AGO"
{extra}
[mailbox.imap]
host = "imap.example.org"
{imap_secret}
"""


def write(tmp_path: Path, **changes: str) -> Path:
    values = dict(db=f"sqlite:///{tmp_path}/intake.db", rules=str(DEFAULT_RULES_DIR),
                  model=str(tmp_path / "model"), state=str(tmp_path / "state"),
                  smtp_secret='password_env = "TEST_SMTP_PASSWORD"',
                  imap_secret='password_credential = "ago-imap-password"', extra="")
    values.update(changes)
    (tmp_path / "model").mkdir(exist_ok=True)
    (tmp_path / "model" / "meta.json").write_text("{}")
    path = tmp_path / "intake.toml"
    path.write_text(BASE.format(**values))
    return path


@pytest.fixture
def environment(tmp_path, monkeypatch):
    """A working environment: the SMTP password variable set, the IMAP credential file there."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "ago-imap-password").write_text("secret\n")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "secret")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return creds


def check(path: Path, creds: Path, capsys) -> tuple[int, str]:
    code = main(["config", "check", str(path), "--credentials-source", str(creds)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_good_settings_pass(tmp_path, environment, capsys):
    code, out = check(write(tmp_path), environment, capsys)
    assert code == 0, out
    assert "OK" in out


BROKEN = [
    ("unset password variable", {}, "TEST_SMTP_PASSWORD",
     "smtp.password_env: environment variable TEST_SMTP_PASSWORD is not set", "EnvironmentFile"),
    ("missing systemd credential", {"imap_secret": 'password_credential = "wse-imap-password"'},
     None, "mailbox[0].imap.password_credential: credential 'wse-imap-password' not found",
     "LoadCredential=wse-imap-password:"),
    ("rules folder missing", {"rules": "/nonexistent/rules"}, None,
     "rules.dir: /nonexistent/rules holds no rule files", "point [rules] dir"),
    ("model folder never built", {"model": "/nonexistent/model"}, None,
     "model.dir: /nonexistent/model holds no trained model", "intake model train --out"),
    ("postgres:// URL", {"db": "postgres://intake@db/intake"}, None,
     "database.url: scheme 'postgres' does not work here", "postgresql+psycopg://"),
    ("not a database URL", {"db": "mysql://intake@db/intake"}, None,
     "database.url: 'db/intake' is not a database URL", "sqlite:////"),
    ("unknown key with a near miss", {"extra": 'retention_yeras = 5'}, None,
     "mailbox[0].retention_yeras: unknown key (did you mean 'retention_years'?)", ""),
    ("unknown table", {"extra": "", "rules": str(DEFAULT_RULES_DIR) + '"\n[digets]\nx = "1'},
     None, "digets: unknown key (did you mean 'digest'?)", ""),
    ("a secret written in the file", {"smtp_secret": 'password = "hunter2"'}, None,
     "smtp.password: secrets never go in the settings file", "password_env"),
]


@pytest.mark.parametrize(("name", "changes", "unset", "problem", "fix"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_broken_setting_is_refused_with_file_key_and_fix(
        tmp_path, environment, capsys, monkeypatch, name, changes, unset, problem, fix):
    if unset:
        monkeypatch.delenv(unset)
    path = write(tmp_path, **changes)
    code, out = check(path, environment, capsys)
    assert code == 2, out
    line = next((ln for ln in out.splitlines() if problem in ln), None)
    assert line is not None, out
    assert str(path) in line
    assert fix in line


def test_every_problem_is_reported_at_once(tmp_path, environment, capsys, monkeypatch):
    path = write(tmp_path, db="postgres://x@y/z", extra='retention_years = "five"\nlangauge = 1')
    code, out = check(path, environment, capsys)
    assert code == 2
    assert "database.url" in out
    assert "mailbox[0].retention_years: must be a whole number" in out
    assert "mailbox[0].langauge: unknown key" in out
    assert "3 problem(s)" in out


def test_example_settings_and_unit_name_the_same_credentials():
    """The shipped units (worker and web console) load exactly the credentials the example
    settings read."""
    import re
    import tomllib

    root = Path(__file__).resolve().parent.parent
    loaded: set[str] = set()
    for name in ("dpo-intake.service", "dpo-intake-web.service"):
        unit = (root / "systemd" / name).read_text()
        loaded |= set(re.findall(r"^LoadCredential=([^:]+):", unit, re.M))
    text = (root / "examples" / "intake.example.toml").read_text()
    named = {v for k, v in _walk(tomllib.loads(text)) if k.endswith("_credential")}
    assert named == loaded
    assert not re.search(r"^\s*\w+_env\s*=", text, re.M), "example reads a secret from env"


def _walk(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node
