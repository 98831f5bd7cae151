"""The `intake` command as an operator runs it: a settings file, real Dovecot, real SMTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from intake.source.base import PROCESSED_KEYWORD
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.dovecot import PASSWORD_ENV as IMAP_PASSWORD_ENV

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)
AGO = "dpo.ago@vlaanderen.be"


def write_settings(tmp_path: Path, imap, smtp, *, imap_port: int | None = None,
                   imap_password_env: str = IMAP_PASSWORD_ENV, wse_folder: str = "") -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(f"""
[database]
url = "sqlite:///intake.db"

[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
tls = "starttls"
ca_file = "{smtp.ca_file}"
username = "{smtp.username}"
password_env = "{smtp.password_env}"

[run]
poll_seconds = 1
outbox_seconds = 1

[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "{AGO}"
reference_prefix = "DPO-AGO"

[mailbox.imap]
host = "{imap.host}"
port = {imap_port or imap.tls_port}
tls = "implicit"
ca_file = "{imap.ca_file}"
username = "{imap.user}"
password_env = "{imap_password_env}"
timeout = 5
""" + (f"""
[[mailbox]]
key = "wse"
controller = "Departement Werk en Sociale Economie"
address = "dpo.wse@vlaanderen.be"
reference_prefix = "DPO-WSE"

[mailbox.imap]
host = "{imap.host}"
port = {imap.tls_port}
tls = "implicit"
ca_file = "{imap.ca_file}"
username = "{imap.user}"
password_env = "{imap_password_env}"
folder = "{wse_folder}"
after = "move"
""" if wse_folder else ""), encoding="utf-8")
    return path


def intake(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "intake.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, check=check,
                          env={**os.environ})


def test_once_from_a_settings_file(tmp_path, imap, smtp_server):
    imap.append(mailgen.request("access", "nl", to=AGO, seed=31,
                                sender=("Jan Peeters", "jan.peeters@example.be")),
                msg_time=RECEIVED)
    imap.append(mailgen.newsletter(to=AGO, seed=32), msg_time=RECEIVED)
    settings = str(write_settings(tmp_path, imap, smtp_server))
    assert "database at revision" in intake("--config", settings, "db", "upgrade").stdout

    report = json.loads(intake("run", "--once", "--json", "--config", settings).stdout)
    assert report["mailboxes"][0]["recorded"] == 2
    assert report["mailboxes"][0]["cases_opened"] == 1
    assert report["outbox"]["sent"] == 1
    assert len(smtp_server.wait_for(1)) == 1

    listed = [json.loads(line) for line in
              intake("cases", "list", "--json", "--config", settings).stdout.splitlines()]
    assert [(c["reference"], c["rights"], c["due"]) for c in listed] == [
        ("DPO-AGO-2026-0001", ["access"], "2026-04-07")]
    shown = intake("cases", "show", "DPO-AGO-2026-0001", "--config", settings).stdout
    assert "clock_suspended" in shown and "acknowledgement_sent" in shown
    missing = intake("cases", "show", "DPO-AGO-2026-9999", "--config", settings, check=False)
    assert missing.returncode == 2 and "no case" in missing.stderr

    again = json.loads(intake("run", "--once", "--json", "--config", settings).stdout)
    assert again["mailboxes"][0]["seen"] == 0 and again["outbox"]["sent"] == 0


def test_run_before_upgrade_says_what_to_do(tmp_path, imap, smtp_server):
    settings = str(write_settings(tmp_path, imap, smtp_server))
    result = intake("run", "--once", "--config", settings, check=False)
    assert result.returncode == 2 and "intake db upgrade" in result.stderr


def test_unreachable_server_and_wrong_password(tmp_path, imap, smtp_server, monkeypatch):
    settings = str(write_settings(tmp_path, imap, smtp_server, imap_port=1))
    intake("--config", settings, "db", "upgrade")
    result = intake("run", "--once", "--config", settings, check=False)
    assert result.returncode == 1
    assert "ago: NOT PROCESSED" in result.stdout and "127.0.0.1:1" in result.stdout

    monkeypatch.setenv("INTAKE_TEST_WRONG_PASSWORD", "not-the-password-xyz")
    settings = str(write_settings(tmp_path, imap, smtp_server,
                                  imap_password_env="INTAKE_TEST_WRONG_PASSWORD"))
    result = intake("run", "--once", "--config", settings, check=False)
    assert result.returncode == 1 and "NOT PROCESSED" in result.stdout
    assert "login" in result.stdout.lower()
    assert "not-the-password-xyz" not in result.stdout + result.stderr


def test_daemon_polls_and_stops_cleanly_on_sigterm(tmp_path, imap, smtp_server):
    # Two mailboxes polled by concurrent scheduler jobs on one SQLite database.
    settings = str(write_settings(tmp_path, imap, smtp_server, wse_folder="WSE"))
    intake("--config", settings, "db", "upgrade")
    imap.append(mailgen.request("objection", "nl", to="dpo.wse@vlaanderen.be", seed=50,
                                sender=("Pieter Maes", "pieter.maes@example.be")),
                folder="WSE", msg_time=RECEIVED)
    daemon = subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", settings],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uids = [imap.append(mailgen.request(right, "nl", to=AGO, seed=40 + i,
                                            sender=(f"Persoon {i}", f"p{i}@example.be")),
                            msg_time=RECEIVED)
                for i, right in enumerate(("erasure", "objection", "access"))]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if imap.uids("WSE") == [] and all(
                PROCESSED_KEYWORD in imap.flags("INBOX", uid) for uid in uids
            ):
                break
            time.sleep(0.2)
        assert all(PROCESSED_KEYWORD in imap.flags("INBOX", uid) for uid in uids)
        assert len(smtp_server.wait_for(4, timeout=30)) == 4
        assert imap.uids("WSE") == [] and len(imap.uids("Verwerkt")) == 1  # moved, after=move
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, stderr
    assert "stopped" in stderr
    assert "Ik wil" not in stderr and "Geachte" not in stderr  # no message bodies in the log
