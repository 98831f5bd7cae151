"""`intake status` and the metrics endpoint while the IMAP server stops mid-run, then returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from intake.config import RunSettings
from intake.daemon import Worker
from intake.source.base import SourceError
from intake.store.db import make_engine, upgrade
from tests import mailgen
from tests.fixtures.dovecot import running_dovecot
from tests.fixtures.smtp import free_port
from tests.test_cli_run import write_settings

ROOT = Path(__file__).resolve().parent.parent


def status(settings: Path) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "intake.cli", "status", "--json", "--config",
                           str(settings)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ})
    return done.returncode, json.loads(done.stdout)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


@pytest.fixture
def private_imap():
    """A Dovecot of this test's own: stopping it leaves the session's server alone."""
    with running_dovecot() as server:
        yield server


def test_status_and_metrics_follow_an_imap_outage(tmp_path, private_imap, smtp_server):
    from intake.config import load_settings

    path = write_settings(tmp_path, private_imap, smtp_server)
    settings = load_settings(path)
    upgrade(make_engine(settings.database.url))

    code, before = status(path)
    assert code == 2 and before["mailboxes"][0]["problem"].startswith("never polled")

    private_imap.append(mailgen.request("erasure", "nl", to="dpo.ago@vlaanderen.be", seed=5))
    worker = Worker(settings)
    port = free_port()
    server = worker.metrics.serve(f"127.0.0.1:{port}")
    try:
        mailbox = settings.mailboxes[0]
        worker.poll(mailbox)
        code, ok = status(path)
        assert code == 0, ok["problems"]
        assert ok["state"] == "ok" and ok["mailboxes"][0]["consecutive_failures"] == 0
        assert ok["open_cases"] == 1 and ok["oldest_due"]
        assert ok["outbox"]["pending"] == 1 and ok["rules_version"]
        text = scrape(port)
        assert 'intake_polls_total{mailbox="ago",result="ok"} 1.0' in text
        assert 'intake_cases_opened_total{mailbox="ago"} 1.0' in text
        assert "intake_database_up 1.0" in text
        assert metric(text, "intake_oldest_open_due_days") > 0

        # The IMAP server goes away mid-run: every pass fails, and after three it is degraded.
        private_imap.process.terminate()
        private_imap.process.wait(timeout=10)
        for expected in (1, 2, 3):
            with pytest.raises(SourceError):
                worker.poll(mailbox)
            code, seen = status(path)
            assert seen["mailboxes"][0]["consecutive_failures"] == expected
        assert code == 1 and seen["state"] == "degraded"
        assert "3 failed passes in a row" in seen["mailboxes"][0]["problem"]
        assert seen["mailboxes"][0]["last_error"]
        assert_in_digest(worker, settings, failures=3)
        text = scrape(port)
        assert 'intake_polls_total{mailbox="ago",result="failed"} 3.0' in text
        assert 'intake_mailbox_consecutive_failures{mailbox="ago"} 3.0' in text

        # It comes back on the same port: the next pass succeeds and all is well again.
        private_imap.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(private_imap.conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from tests.fixtures.dovecot import _wait_until_ready

        _wait_until_ready(private_imap)
        worker.poll(mailbox)
        code, after = status(path)
        assert code == 0 and after["mailboxes"][0]["consecutive_failures"] == 0
        assert 'intake_mailbox_consecutive_failures{mailbox="ago"} 0.0' in scrape(port)
    finally:
        server.shutdown()
        worker.engine.dispose()


def assert_in_digest(worker: Worker, settings, failures: int) -> None:
    """The staff digest lists the mailbox that is not being read, in Dutch."""
    from datetime import UTC, datetime

    from intake.digest.collect import collect_digest
    from intake.digest.render import render_digest

    with worker.sessions() as session:
        digest = collect_digest(session, settings, "ago", datetime.now(UTC))
    line = digest.section("failures").lines[0]
    assert line.kind == "mailbox" and line.reason.params["failures"] == failures
    _subject, text, _html = render_digest(digest, "nl")
    assert f"mailbox wordt niet gelezen: {failures} mislukte pogingen na elkaar" in text


def test_status_is_down_when_the_database_cannot_be_reached(tmp_path, capsys):
    from intake.cli import main

    settings = tmp_path / "intake.toml"
    settings.write_text("""
[database]
url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"

[[mailbox]]
key = "ago"
controller = "AgO"
address = "dpo.ago@vlaanderen.be"
reference_prefix = "DPO-AGO"
[mailbox.maildir]
path = "mail"
""")
    assert main(["--config", str(settings), "status"]) == 2
    out = capsys.readouterr().out
    assert "DOWN" in out and "database unreachable" in out and "Traceback" not in out
    # every command that needs the database says so in one line, without a traceback
    assert main(["--config", str(settings), "cases", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("intake: error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_failures_degraded_is_a_setting():
    assert RunSettings().failures_degraded == 3
