"""The shipped units, as systemd's own tools judge them (systemd itself does not run here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "dpo-intake.service"
MAX_EXPOSURE = 2.0


def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: scripts/ensure-system-deps.sh test installs it")
    return tool


def test_exposure_is_at_most_two():
    done = subprocess.run([analyze(), "security", "--offline=true", "--no-pager", str(UNIT)],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, done.stdout


def test_unit_verifies(tmp_path):
    """`systemd-analyze verify` on the unit, with its commands pointed at this checkout's venv
    (the unit names /opt/dpo-intake, which does not exist on a build machine)."""
    intake = ROOT / ".venv" / "bin" / "intake"
    text = UNIT.read_text().replace("/opt/dpo-intake/.venv/bin/intake", str(intake))
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    done = subprocess.run([analyze(), "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if UNIT.name in line]
    assert not problems, "\n".join(problems)


def test_watchdog_umask_and_notify_are_set():
    text = UNIT.read_text()
    for line in ("Type=notify", "UMask=0077", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes",
                 "SystemCallFilter=@system-service"):
        assert re.search(rf"^{re.escape(line)}\s*$", text, re.M), line
    assert re.search(r"^WatchdogSec=\d+", text, re.M)


def test_memory_of_worker_and_sandbox_is_bounded_together():
    """Issue 13: the worker and its sandbox child are one cgroup; an OOM kill of the child (it
    volunteers: oom_score_adj 1000) must not stop the unit."""
    lines = UNIT.read_text().splitlines()
    assert {"MemoryHigh=600M", "MemoryMax=700M", "OOMPolicy=continue"} <= set(lines)
