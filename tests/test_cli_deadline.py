"""`intake deadline`: output contract, --json shape, --mailbox calendars and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from intake.cli import main

REPO = Path(__file__).resolve().parent.parent

SETTINGS = """
[[mailbox]]
key = "wse"
controller = "Departement Werk en Sociale Economie"
address = "dpo.wse@example.org"
reference_prefix = "DPO-WSE"

[mailbox.maildir]
path = "mail/wse"

[[mailbox]]
key = "plain"
controller = "Voorbeeldagentschap"
address = "dpo.plain@example.org"
reference_prefix = "DPO-PLAIN"
extra_holidays = []

[mailbox.maildir]
path = "mail/plain"

[[mailbox]]
key = "broken"
controller = "Voorbeeldagentschap"
address = "dpo.broken@example.org"
reference_prefix = "DPO-BROKEN"
extra_holidays = ["02-30"]

[mailbox.maildir]
path = "mail/broken"
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings from the environment or /etc; main() rewrites sys.argv, so restore it."""
    monkeypatch.delenv("INTAKE_CONFIG", raising=False)
    monkeypatch.setattr("intake.config.DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    monkeypatch.setattr(sys, "argv", list(sys.argv))


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["deadline", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["2026-03-05"], "2026-04-07"),  # Easter Sunday + Monday 2026 skipped
        (["2025-08-31"], "2025-09-30"),  # EDPB: 31 August -> 30 September
        (["2028-01-31", "--extended"], "2028-05-02"),  # Sun 30 Apr, Labour Day -> Tue 2 May
        (["2026-03-31T23:30:00+00:00"], "2026-05-04"),  # 1 Apr in Brussels; 1 May, weekend
        (["2026-03-31T23:30:00"], "2026-04-30"),  # naive: Brussels local, still 31 Mar
        (["2025-06-11"], "2025-07-14"),  # default calendar closes Fri 11 Jul 2025
    ],
)
def test_prints_due_date_alone(capsys: pytest.CaptureFixture[str], argv: list[str],
                               expected: str) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out == f"{expected}\n"


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "2026-03-05", "--json")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["received"] == "2026-03-05T00:00:00+01:00"
    assert data["months"] == 1
    assert data["raw_end"] == "2026-04-05"
    assert data["due"] == "2026-04-07"
    assert [s["date"] for s in data["skipped"]] == ["2026-04-05", "2026-04-06"]
    assert data["skipped"][1]["reason"] == "holiday: Paasmaandag"
    assert "07-11" in data["calendar"]
    assert data["mailbox"] is None


def test_json_extended(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "2028-01-31", "--extended", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["months"], data["extended"], data["raw_end"], data["due"]) == (
        3, True, "2028-04-30", "2028-05-02")
    assert [s["reason"] for s in data["skipped"]] == ["Sunday", "holiday: Dag van de Arbeid"]


def test_mailbox_calendars(capsys: pytest.CaptureFixture[str], settings_file: Path) -> None:
    # Fri 11 Jul 2025: closed for the mailbox with the default extra day, open for "plain"
    code, out, _ = run(capsys, "2025-06-11", "--config", str(settings_file), "--mailbox", "wse")
    assert (code, out) == (0, "2025-07-14\n")
    code, out, _ = run(capsys, "2025-06-11", "--config", str(settings_file), "--mailbox", "plain")
    assert (code, out) == (0, "2025-07-11\n")


def test_mailbox_json_names_calendar(capsys: pytest.CaptureFixture[str],
                                     settings_file: Path) -> None:
    code, out, _ = run(capsys, "2025-06-11", "--json", "--config", str(settings_file),
                       "--mailbox", "plain")
    data = json.loads(out)
    assert code == 0
    assert data["mailbox"] == "plain"
    assert "none" in data["calendar"]


def test_mailbox_from_environment(capsys: pytest.CaptureFixture[str], settings_file: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_CONFIG", str(settings_file))
    code, out, _ = run(capsys, "2025-06-11", "--mailbox", "plain")
    assert (code, out) == (0, "2025-07-11\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["junk"], "not an ISO date"),
        (["2026-02-30"], "not an ISO date"),
        (["2026-03-05", "--mailbox", "wse"], "no settings file"),
        (["2026-03-05", "--config", "{settings}", "--mailbox", "nope"], "no mailbox with key"),
        (["2026-03-05", "--config", "{settings}", "--mailbox", "broken"], "02-30"),
        (["2026-03-05", "--config", "{missing}", "--mailbox", "wse"], "file not found"),
    ],
)
def test_errors_exit_2(capsys: pytest.CaptureFixture[str], settings_file: Path, argv: list[str],
                       message: str) -> None:
    missing = settings_file.with_name("missing.toml")
    argv = [a.format(settings=settings_file, missing=missing) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("intake: error:")
    assert message in err


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.mark.skipif(not (REPO / "intake" / "cli" / "__main__.py").exists(),
                    reason="intake/cli/__main__.py is not there yet: `python -m intake.cli` "
                           "cannot run")
def test_subprocess_exact_output() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "intake.cli", "deadline", "2026-03-05"],
        cwd=REPO, env=_subprocess_env(), capture_output=True, text=True, check=False,
    )
    assert (ok.returncode, ok.stdout) == (0, "2026-04-07\n")
    bad = subprocess.run(
        [sys.executable, "-m", "intake.cli", "deadline", "not-a-date"],
        cwd=REPO, env=_subprocess_env(), capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "not an ISO date" in bad.stderr


def test_does_not_import_heavy_packages() -> None:
    # The deadline command must start fast: spaCy, lingua and SQLAlchemy stay unloaded.
    code = (
        "import sys\n"
        "from intake.cli import main\n"
        "rc = main(['deadline', '2026-03-05'])\n"
        "heavy = sorted(m for m in ('spacy', 'lingua', 'sqlalchemy') if m in sys.modules)\n"
        "print(rc, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_subprocess_env(),
                            capture_output=True, text=True, check=False)
    assert result.stdout.splitlines() == ["2026-04-07", "0 []"], result.stderr
