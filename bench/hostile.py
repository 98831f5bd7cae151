"""The hostile-mail corpus through `intake inspect` and the worker: peak RSS and time per message.

    .venv/bin/python bench/hostile.py [--scale 1.0] [--memory-mb 320] [--wall 18] [--cpu 15]
    .venv/bin/python bench/hostile.py --per-message [--only forms]   # memory and time per message

Generates tests/hostilegen.py's corpus (100 hostile messages, 10 normal requests behind them),
then
1. runs `intake inspect --json` over every file (one process) and times each answer: the wall
   time per message (the target is ≤ 30 s);
2. puts them all in a Maildir and runs the real worker, `intake run --once` (SQLite, replies to
   files), sampling the RSS of the worker and of its sandbox child every 50 ms (target ≤ 600 MB
   for the worker), and checks that every message ended recorded or quarantined with a reason
   and that every normal request got its case.
Prints the figures; exits 1 if a message is missing or a normal request has no case.
`--per-message` instead triages every message in this process (as the worker does, with the
sandbox) and prints, per message: its wall time (parse included), the rise of this process's
peak RSS over its resident size before the message (VmHWM, reset before each message through
/proc/self/clear_refs) and the peak resident memory of the sandbox child and its Tesseract.
"""

from __future__ import annotations

import argparse
import json
import logging
import mailbox
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostilegen  # noqa: E402

INTAKE = str(Path(sys.executable).parent / "intake")


def settings(tmp: Path, args: argparse.Namespace) -> Path:
    path = tmp / "intake.toml"
    path.write_text(f"""
own_addresses = ["dpo.wse@vlaanderen.be"]  # the other mailbox of the installation

[database]
url = "sqlite:///{tmp}/intake.db"

[smtp]
transport = "file"
file_dir = "{tmp}/sent"

[identity]
sandbox_memory_mb = {args.memory_mb}
sandbox_cpu_seconds = {args.cpu}
sandbox_wall_seconds = {args.wall}
sandbox_message_seconds = {args.message}

[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "dpo.ago@vlaanderen.be"
reference_prefix = "DPO-AGO"

[mailbox.maildir]
path = "{tmp}/mail/ago"
""")
    return path


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peak RSS of a process, of its children (the sandbox, Tesseract) and of both together.

    A child between fork and exec (the sandbox or Tesseract being started) still shares its
    parent's pages and is not counted (intake.untrusted.sandbox.tree_resident): a cgroup, as
    systemd's MemoryMax sees it, would not count them twice either."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_main = self.peak_children = self.peak_total = 0
        self.done = threading.Event()

    def run(self) -> None:
        from intake.untrusted.sandbox import tree_resident

        while not self.done.is_set():
            main = _rss_kb(self.pid)
            kids = max(tree_resident(self.pid) // 1024 - main, 0)
            self.peak_main = max(self.peak_main, main)
            self.peak_children = max(self.peak_children, kids)
            self.peak_total = max(self.peak_total, main + kids)
            time.sleep(0.05)


def inspect_phase(config: Path, files: list[Path], names: list[str]) -> tuple[list, Sampler]:
    warmup = files[-1]  # a normal request first: the start-up is not a message's time
    proc = subprocess.Popen([INTAKE, "--config", str(config), "inspect", "--json",
                             str(warmup), *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    assert proc.stdout is not None
    timings = []
    first = proc.stdout.readline()
    json.loads(first)
    last = time.monotonic()
    for name, line in zip(names, proc.stdout, strict=False):
        now = time.monotonic()
        data = json.loads(line)
        timings.append((now - last, name, data))
        last = now
    proc.wait()
    sampler.done.set()
    return timings, sampler


def worker_phase(config: Path, tmp: Path, messages: list[hostilegen.Hostile]) -> tuple:
    (tmp / "mail").mkdir(exist_ok=True)
    box = mailbox.Maildir(tmp / "mail" / "ago", create=True)
    for item in messages:
        box.add(item.raw)
    subprocess.run([INTAKE, "--config", str(config), "db", "upgrade"], check=True,
                   capture_output=True)
    started = time.monotonic()
    proc = subprocess.Popen([INTAKE, "--config", str(config), "run", "--once"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = Sampler(proc.pid)
    sampler.start()
    code = proc.wait()
    sampler.done.set()
    seconds = time.monotonic() - started
    db = sqlite3.connect(tmp / "intake.db")
    rows = db.execute("select subject, status, quarantine_reason, case_id, disposition, "
                      "from_address from message").fetchall()
    return code, seconds, sampler, rows


def per_message(config: Path, messages: list[hostilegen.Hostile], only: str) -> None:
    """Wall time and memory of each message, triaged in this process with the sandbox."""
    from intake.config import load_settings
    from intake.message import parse_message
    from intake.triage import TriagePipeline
    from intake.untrusted.sandbox import tree_resident

    logging.disable(logging.WARNING)
    pipeline = TriagePipeline.from_settings(load_settings(config))
    pipeline.triage(parse_message(messages[-1].raw))  # warm: every language, the child started
    me = os.getpid()
    peak = [0]

    def watch() -> None:
        while True:
            pid = pipeline.sandbox.pid if pipeline.sandbox else None
            if pid:
                peak[0] = max(peak[0], tree_resident(pid))
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    print(f"{'message':46} {'kB':>6} {'s':>5} {'worker MB':>9} {'rise':>5} {'child MB':>8}  "
          "disposition / error")
    for item in messages:
        if only and only not in item.name:
            continue
        with open(f"/proc/{me}/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS
        before = _rss_kb(me)
        peak[0] = 0
        started = time.monotonic()
        try:
            outcome = pipeline.triage(parse_message(item.raw)).disposition
        except Exception as exc:  # what the worker would quarantine
            outcome = f"error: {type(exc).__name__}"
        seconds = time.monotonic() - started
        high = _status_kb(me, "VmHWM:")
        print(f"{item.name[:46]:46} {len(item.raw) >> 10:6} {seconds:5.1f} {high >> 10:9} "
              f"{(high - before) >> 10:5} {peak[0] >> 20:8}  {outcome}", flush=True)
    if pipeline.sandbox:
        pipeline.sandbox.stop()


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def overhead(rounds: int = 40) -> None:
    """What the sandbox costs normal mail: nothing without attachments (no child is started),
    one round trip per attachment otherwise. Same messages, in-process versus sandboxed."""
    from intake.identity import IdentityChecker
    from intake.identity.id_documents import IdDocumentDetector
    from intake.identity.signatures import SignatureDetector
    from intake.message import parse_message
    from intake.untrusted.sandbox import Sandbox
    from tests import mailgen

    logging.disable(logging.WARNING)
    plain = [parse_message(mailgen.request("access", "nl", seed=i)) for i in range(rounds)]
    letter = mailgen.letter_pdf("Geachte, graag inzage in mijn persoonsgegevens. Jan Peeters")
    attached = [parse_message(hostilegen.mail(hostilegen.COVERING_NOTE, number=i, attachments=[
        ("brief.pdf", "application/pdf", letter + b" " * i)])) for i in range(rounds)]
    sandbox = Sandbox()
    for label, messages in (("no attachment", plain), ("one PDF letter", attached)):
        timings = {}
        for mode, box in (("in-process", None), ("sandbox", sandbox)):
            checker = IdentityChecker(detectors=[IdDocumentDetector(sandbox=box),
                                                 SignatureDetector(None, sandbox=box)])
            checker.assess(messages[0])  # warm (and start the child, if one is needed)
            started = time.perf_counter()
            for msg in messages:
                checker.assess(msg)
            timings[mode] = (time.perf_counter() - started) / len(messages) * 1000
        print(f"overhead, {label}: {timings['in-process']:.1f} ms in-process, "
              f"{timings['sandbox']:.1f} ms sandboxed per message; children started so far: "
              f"{sandbox.started}")
    sandbox.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="bomb sizes (1.0: 1 GB)")
    parser.add_argument("--memory-mb", type=int, default=320)
    parser.add_argument("--cpu", type=int, default=15)
    parser.add_argument("--wall", type=float, default=18.0)
    parser.add_argument("--message", type=float, default=22.0)
    parser.add_argument("--skip-inspect", action="store_true")
    parser.add_argument("--overhead", action="store_true",
                        help="only measure the sandbox's cost on normal mail")
    parser.add_argument("--per-message", action="store_true",
                        help="time and memory of each message, triaged in this process")
    parser.add_argument("--only", default="", help="with --per-message: names containing this")
    args = parser.parse_args()
    if args.overhead:
        overhead()
        return 0

    with tempfile.TemporaryDirectory(prefix="hostile-") as name:
        tmp = Path(name)
        started = time.monotonic()
        messages = list(hostilegen.corpus(args.scale))
        files = []
        (tmp / "eml").mkdir()
        for index, item in enumerate(messages):
            path = tmp / "eml" / f"{index:03d}.eml"
            path.write_bytes(item.raw)
            files.append(path)
        print(f"corpus: {len(messages)} messages ({sum(not m.normal for m in messages)} "
              f"hostile), {sum(len(m.raw) for m in messages) / 2**20:.1f} MB, generated in "
              f"{time.monotonic() - started:.1f} s")
        config = settings(tmp, args)
        if args.per_message:
            per_message(config, messages, args.only)
            return 0

        if not args.skip_inspect:
            timings, sampler = inspect_phase(config, files, [m.name for m in messages])
            slowest = sorted(timings, key=lambda t: -t[0])[:8]
            print(f"inspect: {len(timings)} answers, max {slowest[0][0]:.1f} s per message, "
                  f"total {sum(t[0] for t in timings):.0f} s; peak RSS {sampler.peak_main >> 10}"
                  f" MB (inspect), {sampler.peak_children >> 10} MB (sandbox + children)")
            for seconds, label, _ in slowest:
                print(f"  {seconds:6.1f} s  {label}")

        code, seconds, sampler, rows = worker_phase(config, tmp, messages)
        statuses: dict[str, int] = {}
        for row in rows:
            statuses[row[1]] = statuses.get(row[1], 0) + 1
        normal_subjects = {f"Inzage {i}" for i in range(10)}
        normal_cases = sum(1 for r in rows if r[0] in normal_subjects and r[3] is not None)
        unexplained = [r for r in rows if r[1] == "quarantined" and not r[2]]
        own_answered = [r for r in rows if "vlaanderen.be" in r[5] and r[3] is not None]
        print(f"worker: exit {code}, {seconds:.0f} s for {len(messages)} messages; peak RSS "
              f"{sampler.peak_main >> 10} MB (worker), {sampler.peak_children >> 10} MB "
              f"(sandbox + children), {sampler.peak_total >> 10} MB together")
        print(f"  recorded: {len(rows)} of {len(messages)} ({statuses}); normal requests with "
              f"a case: {normal_cases} of 10; quarantined without reason: {len(unexplained)}; "
              f"own-address mail with a case: {len(own_answered)}")
        ok = code == 0 and len(rows) == len(messages) and normal_cases == 10 \
            and not unexplained and not own_answered
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
