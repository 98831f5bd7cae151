"""The shipped units, as systemd's own tools judge them (systemd itself does not run here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "dpo-intake.service"
TEMPLATE = ROOT / "systemd" / "dpo-intake@.service"
MAX_EXPOSURE = 2.0
# The worker units as systemd would load them: the single worker, and instance 1 of the
# template (systemd-analyze judges an instance; the template's own name is no loadable unit).
UNITS = [(UNIT, UNIT.name), (TEMPLATE, "dpo-intake@1.service")]


def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: scripts/ensure-system-deps.sh test installs it")
    return tool


def installed(tmp_path: Path, source: Path, name: str) -> Path:
    """The unit under `name`, its commands pointed at this checkout's venv (the unit names
    /opt/dpo-intake, which does not exist on a build machine)."""
    intake = ROOT / ".venv" / "bin" / "intake"
    unit = tmp_path / name
    unit.write_text(source.read_text().replace("/opt/dpo-intake/.venv/bin/intake", str(intake)))
    return unit


@pytest.mark.parametrize(("source", "name"), UNITS)
def test_exposure_is_at_most_two(tmp_path, source, name):
    unit = installed(tmp_path, source, name)
    done = subprocess.run([analyze(), "security", "--offline=true", "--no-pager", str(unit)],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, done.stdout


@pytest.mark.parametrize(("source", "name"), UNITS)
def test_unit_verifies(tmp_path, source, name):
    """`systemd-analyze verify` reports nothing about the unit (it exits 0 even for unknown
    keys: the lines naming the unit are the verdict)."""
    unit = installed(tmp_path, source, name)
    done = subprocess.run([analyze(), "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if name in line]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", [UNIT, TEMPLATE])
def test_watchdog_umask_and_notify_are_set(source):
    text = source.read_text()
    for line in ("Type=notify", "UMask=0077", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes",
                 "SystemCallFilter=@system-service", "Restart=on-failure", "RestartSec=1"):
        assert re.search(rf"^{re.escape(line)}\s*$", text, re.M), line
    assert re.search(r"^WatchdogSec=\d+", text, re.M)


def test_memory_of_worker_and_sandbox_is_bounded_together():
    """Issue 13: the worker and its sandbox child are one cgroup; an OOM kill of the child (it
    volunteers: oom_score_adj 1000) must not stop the unit."""
    for unit in (UNIT, TEMPLATE):
        lines = unit.read_text().splitlines()
        assert {"MemoryHigh=600M", "MemoryMax=700M", "OOMPolicy=continue"} <= set(lines), unit


def settings_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def test_template_is_the_single_unit_but_for_its_instance_lines():
    """The two-worker template must not drift from the single worker's unit (sandbox,
    credentials, watchdog): only its description and the per-instance options differ."""
    single, template = settings_lines(UNIT), settings_lines(TEMPLATE)
    own = {"Description=DPO Intake - GDPR request intake for the DPO mailboxes (worker %i)",
           "EnvironmentFile=-/etc/dpo-intake/worker-%i.env",
           "ExecStart=/opt/dpo-intake/.venv/bin/intake run $INTAKE_RUN_OPTIONS"}
    replaced = {"Description=DPO Intake - GDPR request intake for the DPO mailboxes",
                "ExecStart=/opt/dpo-intake/.venv/bin/intake run"}
    assert [line for line in template if line not in own] == \
        [line for line in single if line not in replaced]
    assert own <= set(template) and replaced <= set(single)
