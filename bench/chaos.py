"""Chaos run: kill -9 the real worker (`intake run`) at random moments during a backlog.

    .venv/bin/python bench/chaos.py [--db sqlite|postgresql|both] [--runs 3] [--kills 40] [-n 400]

Starts the test suite's private Dovecot and SMTP server (bench/backlog.py's services()), loads n
fictional requests (one per requester, tests/mailgen.py) into two mailboxes, and runs
`intake run` as a subprocess. Each life of the worker ends by SIGKILL: from outside, at a
random moment after it made progress, or from inside at a fault point (INTAKE_FAULTS,
intake/faults.py): between the commit of a batch and its server flag, and in the outbox after
the claim, just before DATA and after DATA. A successor starts at once. After `--kills` deaths a
last worker finishes the backlog. Then the checks, from the SMTP server's received list, the
IMAP server and the database:
  lost: requesters whose acknowledgement never arrived and whose reply is not flagged uncertain
  duplicate: acknowledgements received more than once (by Message-ID or by requester)
  uncertain: replies flagged for staff (the one window: killed while DATA was under way),
             with how many of them did arrive
  duplicate cases, unflagged messages, reference gaps, and the time from a death to the
  successor (a) holding the mailbox folder, (b) committing its first progress.
Prints figures; asserts nothing.

--cold runs `intake run` itself (start-up counted) instead of workers forked from a zygote;
--cold --workers 2 runs two of them, as the systemd template unit does (dpo-intake@1 and @2):
the one holding work is killed, restarted after --restart-sec (RestartSec=1), and the figure is
the time from the death to the survivor's next case committed.
"""

from __future__ import annotations

import argparse
import email
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.backlog import load, services  # noqa: E402
from intake.source.base import PROCESSED_KEYWORD, QUARANTINE_KEYWORD  # noqa: E402
from intake.store.db import make_engine, upgrade  # noqa: E402
from intake.store.models import Case, MailboxState, Message, OutboxItem  # noqa: E402
from tests import mailgen  # noqa: E402
from tests.fixtures import smtp as smtp_fixture  # noqa: E402

ADDRESSES = {"ago": "dpo.ago@vlaanderen.be", "wse": "dpo.wse@vlaanderen.be"}
RIGHTS = ["access", "erasure", "objection", "rectification", "portability"]
# Fault sets a worker life may get (one per life, chosen at random; most lives get none).
FAULTS = [
    "",
    "",
    "processor.after_commit=0.5",
    "outbox.after_claim=0.05",
    "outbox.after_data=0.03",
    "outbox.before_data=0.01",
]


@dataclass
class Run:
    db: str
    kills: int = 0
    fault_kills: Counter[str] = field(default_factory=Counter)
    kills_with_work_left: int = 0
    to_folder: list[float] = field(default_factory=list)  # death -> successor holds the folder
    to_progress: list[float] = field(default_factory=list)  # death -> successor's first commit
    # The same when no ready worker survived (the successor was still starting: start-up counts)
    cold_folder: list[float] = field(default_factory=list)
    cold_progress: list[float] = field(default_factory=list)
    # --cold: death -> the restarted process commits its next case (a message triaged and
    # recorded: the classifier is loaded), and the new process's start -> that case.
    cold_case: list[float] = field(default_factory=list)
    start_case: list[float] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    crashes: int = 0  # tracebacks in the workers' log
    stuck: int = 0  # --cold: restarts that committed no case within 120 s
    died_first: int = 0  # --cold: restarts that died at a fault point before their first case


def requests(n: int, seed: int) -> tuple[list[bytes], list[str]]:
    mails, senders = [], []
    for i in range(n):
        key = "ago" if i % 2 == 0 else "wse"
        sender = f"aanvrager{seed}x{i}@example.be"
        mails.append(mailgen.request(RIGHTS[i % len(RIGHTS)], "nl", to=ADDRESSES[key],
                                     seed=seed * 100_000 + i, sender=(f"Persoon {i}", sender)))
        senders.append(sender)
    return mails, senders


def write_config(path: Path, db_url: str, server, smtp, poll_seconds: int = 1) -> None:
    imap = server.imap_settings()
    boxes = []
    for key, folder, prefix in (("ago", "INBOX", "DPO-AGO"), ("wse", "WSE", "DPO-WSE")):
        boxes.append(f"""
[[mailbox]]
key = "{key}"
controller = "Chaos {key}"
address = "{ADDRESSES[key]}"
reference_prefix = "{prefix}"
[mailbox.imap]
host = "{imap.host}"
port = {imap.port}
tls = "implicit"
ca_file = "{imap.ca_file}"
username = "{imap.username}"
password_env = "{imap.password.env}"
folder = "{folder}"
""")
    path.write_text(f"""
[database]
url = "{db_url}"
[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
tls = "starttls"
ca_file = "{smtp.ca_file}"
username = "{smtp.username}"
password_env = "{smtp_fixture.PASSWORD_ENV}"
timeout = 10
replies_per_sender_per_day = 100000
[identity]
ocr = false
[run]
poll_seconds = {poll_seconds}
outbox_seconds = 1
""" + "".join(boxes), encoding="utf-8")


class Watch:
    """Reads progress from the database with a plain engine (no write lock taken)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def progress(self) -> tuple[int, int]:
        with self.engine.connect() as c:
            messages = c.scalar(select(func.count()).select_from(Message)) or 0
            done = c.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status.in_(("sent", "failed", "uncertain")))) or 0
        return messages, done

    def cases(self) -> int:
        with self.engine.connect() as c:
            return c.scalar(select(func.count()).select_from(Case)) or 0

    def holders(self) -> set[str]:
        return {h for h in self.held_folders().values() if h}

    def held_folders(self) -> dict[str, str]:
        """Folder -> the worker named as holding it (the lease row; the lock is the truth)."""
        with self.engine.connect() as c:
            rows = c.execute(select(MailboxState.mailbox_key, MailboxState.folder,
                                    MailboxState.lease_holder)).all()
        return {f"{k}/{f}": h for k, f, h in rows if h}

    def work_left(self, n: int) -> bool:
        with self.engine.connect() as c:
            messages = c.scalar(select(func.count()).select_from(Message)) or 0
            open_rows = c.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status.in_(("pending", "claimed", "in_smtp")))) or 0
        return messages < n or open_rows > 0


class WorkerProcess:
    """One `intake run`, with its own sd_notify socket to know when it is ready (READY=1)."""

    def __init__(self, config: Path, faults: str, tmp: Path, number: int, log) -> None:
        self.notify_path = tmp / f"notify-{number}"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.setblocking(False)
        self.faults = faults
        env = {**os.environ, "INTAKE_FAULTS": faults, "OMP_THREAD_LIMIT": "1",
               "NOTIFY_SOCKET": str(self.notify_path)}
        # A log of its own per process (--keep-logs keeps them: which worker did what).
        own = open(tmp / f"worker-{number}.log", "ab")  # noqa: SIM115
        verbose = ["-v"] if os.environ.get("CHAOS_VERBOSE") else []
        self.popen = subprocess.Popen(
            [str(ROOT / ".venv/bin/intake"), "run", *verbose, "--config", str(config)],
            env=env, stdout=own, stderr=own, stdin=subprocess.DEVNULL,
        )
        own.close()
        self.pid = self.popen.pid
        self.is_ready = self.can_triage = self.is_warm = False

    def ready(self) -> bool:
        self._read_notify()
        return self.is_ready

    def triaging(self) -> bool:
        """Ready, and its classifier is loaded (a STATUS line without "classifier loading")."""
        self._read_notify()
        return self.is_ready and self.can_triage

    def warm(self) -> bool:
        """Ready, with every language's rules built (a STATUS line without "classifier")."""
        self._read_notify()
        return self.is_ready and self.is_warm

    def _read_notify(self) -> None:
        while not (self.is_ready and self.is_warm):
            try:
                message = self.notify.recv(4096)
            except (BlockingIOError, OSError):
                break
            self.is_ready = self.is_ready or b"READY=1" in message
            if b"STATUS=" in message and b"classifier loading" not in message:
                self.can_triage = True
            if b"STATUS=" in message and b"classifier" not in message:
                self.can_triage = self.is_warm = True

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> str:
        """SIGKILL it (unless it already died at a fault point); how it died."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
            kind = "random"
        else:
            kind = "fault" if self.popen.returncode == -signal.SIGKILL else "other exit"
        self.popen.wait()
        self.close()
        return kind

    def terminate(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.close()

    def close(self) -> None:
        self.notify.close()
        self.notify_path.unlink(missing_ok=True)


class Zygote:
    """A process that built the triage pipeline once and forks workers on request.

    Each fork runs what `intake run` runs after its start-up, Worker(...).run_forever(), in a
    process of its own (its own database connections, locks and IMAP/SMTP sessions), so a
    kill -9 of it is a real worker death; only the ~10 s of loading the classifier per restart
    is saved, which would otherwise dominate a 40-kill run on a shared machine. --cold runs
    `intake run` itself each time.
    """

    def __init__(self, config: Path, log) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--zygote", str(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        assert self.popen.stdout is not None and self.popen.stdin is not None
        if self.popen.stdout.readline().strip() != "ready":
            raise RuntimeError("the zygote did not start")

    def spawn(self, faults: str, notify: Path) -> int:
        assert self.popen.stdout is not None and self.popen.stdin is not None
        self.popen.stdin.write(f"{faults}\t{notify}\n")
        self.popen.stdin.flush()
        return int(self.popen.stdout.readline())

    def close(self) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.close()
        self.popen.wait(timeout=60)


class ForkedWorker(WorkerProcess):
    """A worker forked by the zygote (a grandchild: alive while not a zombie in /proc)."""

    def __init__(self, zygote: Zygote, faults: str, tmp: Path, number: int) -> None:
        self.notify_path = tmp / f"notify-{number}"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.setblocking(False)
        self.faults = faults
        self.pid = zygote.spawn(faults, self.notify_path)
        self.is_ready = self.can_triage = self.is_warm = False
        self.popen = None  # type: ignore[assignment]

    def alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state not in ("Z", "X")

    def kill(self) -> str:
        kind = "random" if self.alive() else "died itself"
        if kind == "random":
            os.kill(self.pid, signal.SIGKILL)
            wait_until(lambda: not self.alive(), 10)
        self.close()
        return kind

    def terminate(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            if not wait_until(lambda: not self.alive(), 60):
                os.kill(self.pid, signal.SIGKILL)
        self.close()


def zygote_main(config: str) -> None:
    """--zygote: build once, then fork a worker per request line "FAULTS<TAB>NOTIFY_SOCKET"."""
    import multiprocessing

    from intake.config import load_settings
    from intake.daemon import Worker
    from intake.logs import setup_logging
    from intake.triage import TriagePipeline

    settings = load_settings(config)
    pipeline = TriagePipeline.from_settings(settings)
    context = multiprocessing.get_context("fork")

    def child(faults: str, notify: str) -> None:
        os.environ["INTAKE_FAULTS"], os.environ["NOTIFY_SOCKET"] = faults, notify
        os.dup2(2, 1)  # stdout is the zygote's answer channel
        setup_logging()
        Worker(settings, pipeline=pipeline).run_forever()

    print("ready", flush=True)
    for line in sys.stdin:
        multiprocessing.active_children()  # reap the dead
        faults, notify = line.rstrip("\n").split("\t")
        process = context.Process(target=child, args=(faults, notify))
        process.start()
        print(process.pid, flush=True)


def dump_stacks(procs: list[WorkerProcess], tmp: Path, keep_logs: str | None) -> None:
    """A restarted worker made no progress in 120 s: its threads' stacks (with py-spy, when
    CHAOS_PYSPY names it) go to the kept logs."""
    pyspy = os.environ.get("CHAOS_PYSPY")
    if not pyspy or not keep_logs:
        return
    Path(keep_logs).mkdir(parents=True, exist_ok=True)
    for p in procs:
        out = subprocess.run([pyspy, "dump", "--pid", str(p.pid)], capture_output=True,
                             text=True, timeout=60, check=False)
        (Path(keep_logs) / f"stuck-{p.pid}.txt").write_text(out.stdout + out.stderr)


def wait_until(condition, limit: float, tick=None) -> bool:
    """Poll `condition` until it holds or `limit` seconds pass; `tick()` runs at each look (the
    delayed restart of a dead worker, as systemd's RestartSec)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if tick is not None:
            tick()
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def one_run(db: str, n: int, kills: int, seed: int, cold: bool,
            keep_logs: str | None = None, workers: int | None = None,
            restart_sec: float = 0.0, poll_seconds: int = 1) -> Run:
    """One backlog, `kills` deaths. Two workers run at all times (forked by the zygote; the
    survivor takes over, the restarted one stands by); cold: `workers` `intake run` processes
    (default one), a dead one restarted after `restart_sec`."""
    if workers is None:
        workers = 1 if cold else 2
    rng = random.Random(seed)
    run = Run(db)
    mails, senders = requests(n, seed)
    first = n // 4
    chunks = [mails[first + i::kills] for i in range(kills)]  # new mail after each death
    started = time.monotonic()
    with services(db, "chaos-") as (server, smtp, db_url), \
            tempfile.TemporaryDirectory(prefix="chaos-") as tmp_name:
        tmp = Path(tmp_name)
        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        load(server, mails[:first])
        config = tmp / "intake.toml"
        write_config(config, db_url, server, smtp, poll_seconds)
        watch = Watch(db_url)
        log = open(tmp / "worker.log", "ab")  # noqa: SIM115
        count = [0]
        zygote = None if cold else Zygote(config, log)

        def spawn() -> WorkerProcess:
            count[0] += 1
            faults = rng.choice(FAULTS) if run.kills < kills else ""
            if zygote is not None:
                return ForkedWorker(zygote, faults, tmp, count[0])
            return WorkerProcess(config, faults, tmp, count[0], log)

        procs = [spawn() for _ in range(workers)]
        wait_until(lambda: all(p.ready() for p in procs), 120)
        # Two real workers: the new mail comes before the kill, so that the kill finds one of
        # them in a pass (holding the folder, with mail left), and the figure is the survivor
        # taking that mail over, not noticing mail that arrives after the death.
        standby = cold and workers > 1
        loaded = first
        if standby:
            # (A worker dead at its own fault point meanwhile is taken as the first death.)
            wait_until(lambda: all(p.warm() or not p.alive() for p in procs), 120)
        while run.kills < kills:
            if standby and chunks:
                chunk = chunks.pop(0)
                load(server, chunk)
                loaded += len(chunk)
                # Kill the one in a pass: wait (briefly) for a pass to begin.
                wait_until(lambda: bool(watch.holders()), 5)
                deadline = time.monotonic() + rng.uniform(0.0, 0.6)
            else:
                # A random moment, unless a worker kills itself at a fault point first.
                deadline = time.monotonic() + rng.uniform(0.2, 4.0)
            while time.monotonic() < deadline and all(p.alive() for p in procs):
                time.sleep(0.01)
            holders = watch.holders()
            dead = [p for p in procs if not p.alive()]
            if not dead:
                ready = [p for p in procs if p.ready()] or procs
                holding = [p for p in ready if any(h.endswith(f":{p.pid}") for h in holders)]
                dead = [rng.choice(holding or ready)]
            held = {f for f, h in watch.held_folders().items()
                    if any(h.endswith(f":{d.pid}") for d in dead)}
            # Standby: the figure needs mail on the server that is not recorded yet.
            work = watch.progress()[0] < loaded if standby else watch.work_left(n)
            for victim in dead:
                run.fault_kills[victim.kill()] += 1
                run.kills += 1
                run.kills_with_work_left += int(work)
            died = time.monotonic()
            before, cases_before = watch.progress(), watch.cases()
            if chunks and not standby:
                load(server, chunks.pop(0))
            survivors = [p for p in procs if p not in dead]
            warm = any(p.ready() for p in survivors)
            procs = list(survivors)
            # The dead are restarted after restart_sec (systemd's RestartSec), while the
            # survivor is being measured: tick() starts them when it is time.
            owed = [len(dead)]
            restart_at = died + restart_sec
            spawned = [time.monotonic()]

            def tick(owed: list[int] = owed, restart_at: float = restart_at,
                     procs: list[WorkerProcess] = procs, spawned: list[float] = spawned) -> None:
                if owed[0] and time.monotonic() >= restart_at:
                    spawned[0] = time.monotonic()
                    procs.extend(spawn() for _ in range(owed[0]))
                    owed[0] = 0

            tick()
            live = {f":{p.pid}" for p in survivors}

            def taken_over(held: set[str] = held, live: set[str] = live,
                           procs: list[WorkerProcess] = procs) -> bool:
                now = watch.held_folders()
                ids = live | {f":{p.pid}" for p in procs}
                return all(any(now.get(f, "").endswith(x) for x in ids) for f in held)

            folder_times = run.to_folder if warm else run.cold_folder
            progress_times = run.to_progress if warm else run.cold_progress
            if held and wait_until(taken_over, 120, tick):
                folder_times.append(time.monotonic() - died)
            if work and wait_until(lambda b=before: watch.progress() != b, 120, tick):
                progress_times.append(time.monotonic() - died)
            if cold and work:
                # A worker may die at its own fault point (in the outbox, which a new one works
                # on while its classifier loads) before a case is recorded: not a figure.
                if wait_until(lambda c=cases_before, ps=procs: watch.cases() != c
                              or not all(p.alive() for p in ps), 120, tick):
                    if watch.cases() != cases_before:
                        run.cold_case.append(time.monotonic() - died)
                        if not survivors:
                            run.start_case.append(time.monotonic() - spawned[0])
                    else:
                        run.died_first += 1
                else:
                    run.stuck += 1
                    dump_stacks(procs, tmp, keep_logs)
            wait_until(lambda o=owed: not o[0], restart_sec + 1, tick)
            if standby:
                # The next death comes once the last one is over: both workers warm again
                # (classifier loaded, every language built) and the mail recorded. Deaths are
                # rare in production, where the standby has run for long; one still loading
                # would measure the start-up, and a kill during the survivor's take-over
                # quarantines the message it re-reads (two deaths on it, by design).
                wait_until(lambda ps=procs, n=loaded: all(p.warm() or not p.alive() for p in ps)
                           and watch.progress()[0] >= n, 120)
            elif cold:
                wait_until(lambda ps=procs: all(p.ready() or not p.alive() for p in ps), 120)
        for chunk in chunks:
            load(server, chunk)
        for p in [p for p in procs if not p.alive()]:
            p.kill()  # died at a fault point meanwhile
            procs.remove(p)
        finish = time.monotonic() + 600
        while time.monotonic() < finish and (watch.work_left(n) or not procs):
            if not procs:
                procs = [spawn()]
            time.sleep(0.2)
        time.sleep(2.0)  # a last outbox interval
        for p in procs:
            p.terminate()
        if zygote is not None:
            zygote.close()
        log.close()
        logs = [tmp / "worker.log", *sorted(tmp.glob("worker-*.log"),
                                             key=lambda f: int(f.stem.split("-")[1]))]
        run.crashes = sum(f.read_text(errors="replace").count("Traceback") for f in logs)
        if keep_logs:
            Path(keep_logs).mkdir(parents=True, exist_ok=True)
            (Path(keep_logs) / f"{db}-{seed}.log").write_bytes((tmp / "worker.log").read_bytes())
            for f in logs[1:]:
                (Path(keep_logs) / f"{db}-{seed}-{f.name}").write_bytes(f.read_bytes())
        run.figures = check(watch, server, smtp, senders)
        watch.engine.dispose()
    run.seconds = time.monotonic() - started
    return run


def check(watch: Watch, server, smtp, senders: list[str]) -> dict[str, int]:
    received = smtp.received
    by_id = Counter(email.message_from_bytes(m.data)["Message-ID"] for m in received)
    by_rcpt = Counter(r.lower() for m in received for r in m.rcpt_tos)
    with watch.engine.connect() as c:
        rows = c.execute(select(OutboxItem.recipient, OutboxItem.status, OutboxItem.message_id)
                         .where(OutboxItem.purpose == "acknowledgement")).all()
        cases = c.execute(select(Case.mailbox_key, Case.year, Case.seq)).all()
        requesters = Counter(r.lower() for r in c.scalars(select(Case.requester_address)))
        messages = c.scalar(select(func.count()).select_from(Message)) or 0
        quarantined = c.execute(select(Message.quarantine_reason)
                                .where(Message.status == "quarantined")).scalars().all()
    for reason in quarantined:
        print(f"  quarantined: {reason}")
    uncertain = {r.recipient.lower(): r for r in rows if r.status == "uncertain"}
    lost = [s for s in senders if by_rcpt[s.lower()] == 0 and s.lower() not in uncertain]
    gaps = 0
    for key, year in {(k, y) for k, y, _s in cases}:
        seqs = sorted(s for k, y, s in cases if (k, y) == (key, year))
        gaps += seqs[-1] - len(set(seqs))  # numbers 1..max never used
    unflagged = 0
    with server.client() as client:
        for folder in ("INBOX", "WSE"):
            client.select_folder(folder, readonly=True)
            unflagged += len(client.search(
                ["NOT", "KEYWORD", PROCESSED_KEYWORD, "NOT", "KEYWORD", QUARANTINE_KEYWORD]))
    return {
        "requests": len(senders),
        "messages recorded": messages,
        "quarantined": len(quarantined),
        "cases": len(cases),
        "duplicate cases": sum(v - 1 for v in requesters.values() if v > 1),
        "requesters without a case": sum(requesters[s.lower()] == 0 for s in senders),
        "acknowledgements received": len(received),
        "lost": len(lost),
        "duplicate (Message-ID)": sum(v - 1 for v in by_id.values() if v > 1),
        "duplicate (requester)": sum(v - 1 for v in by_rcpt.values() if v > 1),
        "uncertain": len(uncertain),
        "uncertain, arrived": sum(by_id[r.message_id] > 0 for r in uncertain.values()),
        "unsent (pending/failed)": sum(r.status in ("pending", "claimed", "failed")
                                       for r in rows),
        "unflagged": unflagged,
        "reference gaps": gaps,
    }


def _fmt(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, "
            f"max {ordered[-1]:.2f} s (n={len(ordered)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("-n", type=int, default=400, help="requests in the backlog")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cold", action="store_true",
                        help="one `intake run`, restarted after each death (start-up counted), "
                        "instead of two forked workers (the survivor takes over)")
    parser.add_argument("--workers", type=int, default=None,
                        help="with --cold: how many `intake run` processes at all times "
                        "(default 1; 2 = the systemd template's two instances)")
    parser.add_argument("--restart-sec", type=float, default=None,
                        help="restart a dead worker after this many seconds (default: 1 with "
                        "--cold --workers 2, as RestartSec=1; else 0)")
    parser.add_argument("--poll-seconds", type=int, default=1,
                        help="[run] poll_seconds of the workers (the production default is 60)")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the workers' log of each run here")
    parser.add_argument("--zygote", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.zygote:
        zygote_main(args.zygote)
        return 0
    # SIGTERM: stop like Ctrl-C, so the servers, workers and schemas are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.workers is not None and not args.cold:
        parser.error("--workers needs --cold (the forked workers are always two)")
    workers = args.workers if args.workers is not None else (1 if args.cold else 2)
    restart_sec = args.restart_sec
    if restart_sec is None:
        restart_sec = 1.0 if args.cold and workers > 1 else 0.0
    results: list[Run] = []
    for db in dbs:
        for number in range(args.runs):
            run = one_run(db, args.n, args.kills, args.seed + number, args.cold, args.keep_logs,
                          workers, restart_sec, args.poll_seconds)
            results.append(run)
            print(f"\n{db} run {number + 1}: {run.kills} kills ({dict(run.fault_kills)}; "
                  f"{run.kills_with_work_left} with work left), {run.seconds:.0f} s, "
                  f"{run.crashes} tracebacks in the workers' log")
            print("  " + ", ".join(f"{k}: {v}" for k, v in run.figures.items()))
            print(f"  death -> successor holds the folder: {_fmt(run.to_folder)}")
            print(f"  death -> successor's first commit:   {_fmt(run.to_progress)}")
            print(f"  no ready survivor (start-up counted): folder {_fmt(run.cold_folder)}; "
                  f"first commit {_fmt(run.cold_progress)}")
            if args.cold:
                print(f"  cold restarts without a case within 120 s: {run.stuck}; died at a "
                      f"fault point before their first case: {run.died_first}")
                print(f"  cold, {workers} worker(s): death -> next case committed: "
                      f"{_fmt(run.cold_case)}; restarted process's start -> next case "
                      f"(no survivor): {_fmt(run.start_case)}")
            sys.stdout.flush()
    print("\nsummary")
    for db in dbs:
        runs = [r for r in results if r.db == db]
        totals = Counter()
        for r in runs:
            totals.update(r.figures)
        folder = [t for r in runs for t in r.to_folder]
        progress = [t for r in runs for t in r.to_progress]
        print(f"{db}: {len(runs)} runs, {sum(r.kills for r in runs)} kills "
              f"({sum(r.kills_with_work_left for r in runs)} with work left); "
              + ", ".join(f"{k}: {v}" for k, v in totals.items()))
        print(f"  ready survivor: death -> folder held: {_fmt(folder)}; "
              f"death -> first commit: {_fmt(progress)}")
        print(f"  successor still starting: death -> folder held: "
              f"{_fmt([t for r in runs for t in r.cold_folder])}; death -> first commit: "
              f"{_fmt([t for r in runs for t in r.cold_progress])}")
        if args.cold:
            print(f"  cold, {workers} worker(s): death -> next case committed: "
                  f"{_fmt([t for r in runs for t in r.cold_case])}; restarted process's start "
                  f"-> next case (no survivor): {_fmt([t for r in runs for t in r.start_case])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
