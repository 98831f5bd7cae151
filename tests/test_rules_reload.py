"""Rules reload in a running daemon: on file change and SIGHUP; a broken file is refused."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from intake.classify import Classifier
from intake.classify.reload import RulesReloader
from tests.test_cli_run import ROOT, intake, write_settings

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
EXTRA_RULE = """\
rules:
  - name: ACCESS_TEST_CODEWORD_NL
    description: A word no real message uses, to see the new rule at work.
    right: access
    score: 5.0
    languages: [nl]
    phrases: [kwispelstaart]
"""
TEXT = "Hallo, kwispelstaart graag."


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def _touch_later(path: Path, text: str) -> None:
    """Write text so that the modification time surely differs from the file's last one."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_changed_file_is_reloaded_and_broken_file_refused(
    rules_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = RulesReloader(rules_copy, Classifier.load(rules_copy))
    assert reloader.check() is None  # nothing changed
    assert reloader.classifier.classify("", TEXT, "nl").rights == ()

    extra = rules_copy / "zz_test.yaml"
    _touch_later(extra, EXTRA_RULE)
    new = reloader.check()
    assert new is not None and new.classify("", TEXT, "nl").rights == ("access",)

    caplog.set_level(logging.ERROR, logger="intake.classify.reload")
    _touch_later(extra, EXTRA_RULE.replace("right: access", "right: acces"))
    assert reloader.check() is None
    assert reloader.classifier is new  # the previous rules stay active
    assert "rules not reloaded" in caplog.text
    assert "acces" in caplog.records[-1].problem
    caplog.clear()
    assert reloader.check() is None and not caplog.records  # not reported again

    reloader.request()  # SIGHUP on the same broken files: tried again, refused again
    assert reloader.check() is None and "rules not reloaded" in caplog.text

    _touch_later(extra, EXTRA_RULE.replace("score: 5.0", "score: 6.0"))
    fixed = reloader.check()
    assert fixed is not None and fixed.classify("", TEXT, "nl").scores["access"] == 6.0


def test_sighup_reloads_a_running_daemon(tmp_path, imap, smtp_server, rules_copy):
    settings = write_settings(tmp_path, imap, smtp_server)
    settings.write_text(settings.read_text().replace(
        "[run]", f'[rules]\ndir = "{rules_copy}"\n\n[run]'))
    intake("--config", str(settings), "db", "upgrade")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "run", "--config", str(settings)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(daemon.stderr), daemon=True)
    reader.start()

    def wait_for(text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in lines):
            assert time.monotonic() < deadline, f"no {text!r} in: {''.join(lines)}"
            assert daemon.poll() is None, "".join(lines)
            time.sleep(0.1)

    try:
        wait_for("intake running")  # signal handlers are in place from here on
        (rules_copy / "zz_test.yaml").write_text(EXTRA_RULE.replace("right: access", "right: x"))
        daemon.send_signal(signal.SIGHUP)
        wait_for("rules not reloaded")
        (rules_copy / "zz_test.yaml").write_text(EXTRA_RULE)
        daemon.send_signal(signal.SIGHUP)
        wait_for("rules reloaded")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        reader.join(timeout=10)
    stderr = "".join(lines)
    assert daemon.returncode == 0, stderr
    assert "rules not reloaded, previous rules stay active" in stderr
    assert "file=zz_test.yaml" in stderr
    assert "rules reloaded" in stderr
