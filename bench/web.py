"""Benchmark: every page of the web console with N generated cases in PostgreSQL (or SQLite).

    .venv/bin/python bench/web.py [-n 10000] [--open-share 0.3] [--db postgresql|sqlite]

Generates N fictional cases (two mailboxes, two years, a share of them open, one message and
three events each, plus listed mail, plus one busy case with BUSY events, 25 messages and 10
replies) in a private PostgreSQL schema, serves the console with uvicorn on a free 127.0.0.1
port in a child process (demo sign-in as admin, the clock fixed at 9 June 2026) and times each
page over HTTP from this process:
median, 95th percentile and max of R requests after a warm-up. The digest page is timed twice:
as served (kept 30 s) and with that cache off, so every request collects the digest anew.
Also prints the time to the body's first bytes and the console process's CPU time per request
(not the database's), which depends far less on a busy machine than the wall-clock figures.
Prints figures; asserts nothing (target: every page <= 200 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from intake.store.db import make_engine, upgrade  # noqa: E402
from intake.store.models import Case, CaseRight, Event, Message, OutboxItem  # noqa: E402
from intake.store.timezone import BRUSSELS  # noqa: E402
from intake.web import pages as pages_module  # noqa: E402
from tests.casefactory import NOW  # noqa: E402
from tests.fixtures.database import PG_URL  # noqa: E402
from tests.fixtures.webapp import console_settings, serve  # noqa: E402

RIGHTS = ("access", "erasure", "rectification", "objection", "restriction", "portability")
NAMES = ("Jan Peeters", "Els Janssens", "Pieter Claes", "Sofie Maes", "Lucas Wouters",
         "Nora Peeters", "Tom Jacobs", "Hanne Willems", "Ines Lambert", "Marie Dubois")


def generate(url: str, n: int, open_share: float, busy: int = 1000) -> tuple[str, int, str]:
    """N cases; returns one open case's reference, one message id and the busy case's
    reference."""
    rng = random.Random(16)
    engine = make_engine(url)
    upgrade(engine)
    start = NOW - timedelta(days=730)
    cases, rights, messages, events = [], [], [], []
    seqs: dict[tuple[str, int], int] = {}
    for i in range(1, n + 1):
        mailbox = "ago" if i % 3 else "wse"
        open_case = rng.random() < open_share
        received = (NOW - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
                    if open_case else start + timedelta(days=rng.randint(0, 600)))
        local = received.astimezone(BRUSSELS)
        seq = seqs[(mailbox, local.year)] = seqs.get((mailbox, local.year), 0) + 1
        kind = "question" if i % 10 == 0 else "request"
        name = rng.choice(NAMES)
        address = f"{name.lower().replace(' ', '.')}{i}@example.be"
        due = local.date() + timedelta(days=31)
        suspended = open_case and i % 17 == 0
        cases.append({
            "id": i, "reference": f"DPO-{mailbox.upper()}-{local.year}-{seq:05d}",
            "mailbox_key": mailbox, "year": local.year, "seq": seq, "kind": kind,
            "status": ("awaiting_identity" if suspended else "open") if open_case else "closed",
            "requester_address": address, "requester_name": name, "language": "nl",
            "received_at": received, "due_date": due if kind == "request" else None,
            "target_date": due if kind == "question" else None,
            "clock_suspended_on": local.date() if suspended else None,
            "suspended_days_left": 31 if suspended else None, "extended": i % 23 == 0,
            "identity_status": "id_copy", "confidence": 0.9, "needs_review": i % 41 == 0,
            "review_reason": "low confidence" if i % 41 == 0 else None, "created_at": received,
            "closed_at": None if open_case else received + timedelta(days=20),
            "assignee": rng.choice((None, "an.devos", "lien.maes")),
            "outcome": None if open_case else "answered",
            "answered_on": None if open_case else local.date() + timedelta(days=20),
            "on_time": None if open_case else True,
        })
        if kind == "request":
            for pos, right in enumerate(rng.sample(RIGHTS, rng.randint(1, 2))):
                rights.append({"case_id": i, "right": right, "position": pos})
        messages.append({
            "id": i, "mailbox_key": mailbox, "folder": "INBOX", "uidvalidity": 1, "uid": i,
            "message_id": f"<m{i}@example.be>", "content_hash": f"{i:064x}",
            "status": "processed", "case_id": i, "received_at": received,
            "from_address": address, "from_name": name, "subject": "Verzoek",
            "kind": "request", "disposition": "open_request", "language": "nl",
            "triage": {"identity": {"status": "none", "evidence": []}},
            "body_text": "Fictief verzoek om inzage in mijn gegevens. " * 20,
            "created_at": received,
        })
        for k, kind_ in enumerate(("opened", "acknowledgement_queued", "note")):
            events.append({"case_id": i, "at": received + timedelta(minutes=k),
                           "actor": "intake", "type": kind_, "reason": kind_, "data": None})
    for j in range(n + 1, n + 301):  # listed mail
        received = NOW - timedelta(days=j % 60)
        messages.append({
            "id": j, "mailbox_key": "ago" if j % 2 else "wse", "folder": "INBOX",
            "uidvalidity": 1, "uid": j, "message_id": f"<l{j}@example.be>",
            "content_hash": f"{j:064x}", "status": "processed", "case_id": None,
            "received_at": received, "from_address": f"factuur{j}@example.com",
            "from_name": "Leverancier", "subject": "Factuur", "kind": "other",
            "disposition": "list_only", "language": "nl",
            "triage": {"explanation": ["no case: invoice"]}, "body_text": "Factuur",
            "created_at": received,
        })
    busy_case = next(c for c in reversed(cases) if c["status"] == "open")
    outbox = _busy_case(busy_case, busy, messages, events)
    with engine.begin() as conn:
        for table, rows in ((Case, cases), (CaseRight, rights), (Message, messages),
                            (Event, events), (OutboxItem, outbox)):
            for k in range(0, len(rows), 2000):
                conn.execute(insert(table), rows[k:k + 2000])
        if engine.dialect.name == "postgresql":
            for table in ("case", "message", "event", "outbox"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                  f"(SELECT max(id) FROM \"{table}\"))"))
            conn.execute(text("ANALYZE"))
    engine.dispose()
    first_open = next(c for c in cases if c["status"] == "open")
    return first_open["reference"], first_open["id"], busy_case["reference"]


def _busy_case(case: dict, busy: int, messages: list[dict], events: list[dict]) -> list[dict]:
    """A case with a long history: `busy` events, 25 more messages and 10 replies (outbox)."""
    start, first_id = case["received_at"], len(messages) + 1
    for k in range(25):
        messages.append({
            **messages[case["id"] - 1], "id": first_id + k, "uid": first_id + k,
            "message_id": f"<b{k}@example.be>", "content_hash": f"b{k:063x}",
            "received_at": start + timedelta(days=k % 20, hours=k), "kind": "followup",
            "disposition": "followup", "created_at": start + timedelta(days=k % 20, hours=k),
        })
    types = ("note", "assigned", "reminder_queued", "clock_suspended", "clock_resumed")
    for k in range(busy):
        type_ = types[k % len(types)]
        day = (start + timedelta(hours=k)).astimezone(BRUSSELS).date().isoformat()
        events.append({"case_id": case["id"], "at": start + timedelta(hours=k), "actor":
                       "Demo Behandelaar <behandelaar@demo.invalid>", "type": type_,
                       "reason": f"{type_} {k}: " + "toelichting " * 5,
                       "data": {"on": day} if type_.startswith("clock") else None})
    outbox = []
    for k in range(10):
        raw = (f"From: dpo@ago.example.be\r\nTo: {case['requester_address']}\r\n"
               f"Subject: Uw verzoek {case['reference']} ({k})\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n"
               + "Geachte, wij hebben uw verzoek goed ontvangen.\r\n" * 30)
        outbox.append({
            "case_id": case["id"], "purpose": f"reply_{k}", "message_id": f"<r{k}@example.be>",
            "mail_from": "dpo@ago.example.be", "recipient": case["requester_address"],
            "raw": raw.encode(), "status": "sent" if k < 8 else "pending", "attempts": 1,
            "next_attempt_at": start, "created_at": start + timedelta(days=k),
            "sent_at": start + timedelta(days=k, minutes=1) if k < 8 else None,
        })
    return outbox


def measure(client: httpx.Client, console: Console, path: str,
            rounds: int) -> tuple[float, float, float, float, float, float, int]:
    """The first request (cold: e.g. the digest page's 30-second cache is empty), then the
    median, p95 and max of `rounds` more after one warm-up, the median time to the first
    bytes of the body (a streamed answer, such as the CSV, starts before it ends) and the
    console's CPU time per request (its own work, whatever the machine's other load)."""
    started = time.perf_counter()
    client.get(path)
    first = (time.perf_counter() - started) * 1000
    client.get(path)
    times, starts = [], []
    cpu = console.cpu()
    for _ in range(rounds):
        started = time.perf_counter()
        with client.stream("GET", path) as answer:
            for chunk in answer.iter_raw():
                if chunk and len(starts) < len(times) + 1:
                    starts.append((time.perf_counter() - started) * 1000)
        times.append((time.perf_counter() - started) * 1000)
    cpu = (console.cpu() - cpu) * 1000 / rounds
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (first, statistics.median(times), p95, times[-1], statistics.median(starts), cpu,
            answer.status_code)


def _serve(url: str, digest_seconds: int, pipe: Connection) -> None:
    """In the console's own process: serve, tell its CPU time when asked, until told to stop."""
    pages_module.DIGEST_SECONDS = digest_seconds
    for base in serve(console_settings(url, None), demo=True):
        pipe.send(base)
        while pipe.recv() == "cpu":
            pipe.send(time.process_time())


class Console:
    """The console's address, and its process's CPU seconds so far (all its threads)."""

    def __init__(self, base: str, pipe: Connection) -> None:
        self.base, self.pipe = base, pipe

    def cpu(self) -> float:
        self.pipe.send("cpu")
        return self.pipe.recv()


@contextmanager
def console_process(url: str, digest_seconds: int) -> Iterator[Console]:
    """The console under uvicorn in a child process (the client apart, as a browser is)."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(url, digest_seconds, child), daemon=True)
    process.start()
    try:
        yield Console(parent.recv(), parent)
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


def report(label: str, figures: tuple[float, float, float, float, float, float, int]) -> None:
    first, median, p95, worst, start, cpu, status = figures
    print(f"{label[:52]:<52} {first:7.1f}ms {median:7.1f}ms {p95:7.1f}ms {worst:7.1f}ms "
          f"{start:7.1f}ms {cpu:7.1f}ms  {status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--open-share", type=float, default=0.3)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("-r", "--rounds", type=int, default=10)
    parser.add_argument("--busy", type=int, default=1000, help="events of the busy case")
    args = parser.parse_args()
    schema = None
    if args.db == "postgresql":
        schema = f"bench_web_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-web-')}/intake.db"
    try:
        started = time.perf_counter()
        reference, message_id, busy = generate(url, args.n, args.open_share, args.busy)
        print(f"{args.n} cases ({args.open_share:.0%} open) in {args.db}: generated in "
              f"{time.perf_counter() - started:.1f} s")
        pages = ["/", "/?q=peeters", "/?mailbox=wse&right=access", "/?needs_review=1",
                 "/?page=5", "/?status=awaiting_identity&assignee=maes&due_before=2026-07-01",
                 "/?mailbox=ago&right=erasure&q=jan&page=2", f"/cases/{reference}",
                 f"/cases/{busy}", f"/messages/{message_id}", "/listed", "/new", "/register",
                 "/register?page=20", "/register?mailbox=wse&from=2025-01-01&to=2025-12-31",
                 "/register.csv", "/register.csv?mailbox=wse", "/digest", "/digest?scope=wse",
                 "/settings"]
        print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'page':<52} {'first':>8} {'median':>8} {'p95':>8} {'max':>8} {'1st byte':>8} "
              f"{'cpu/req':>8}  status")
        # First the digest collected at every request (its 30-second cache off), then every
        # page as served.
        for digest_seconds, paths in ((0, ("/digest", "/digest?scope=wse")),
                                      (pages_module.DIGEST_SECONDS, pages)):
            with console_process(url, digest_seconds) as console, \
                    httpx.Client(base_url=console.base, timeout=60) as client:
                login = client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
                client.post("/login/demo", data={"csrf": token, "who": "beheerder"})
                for path in paths:
                    label = f"{path} (uncached)" if digest_seconds == 0 else path
                    report(label, measure(client, console, path, args.rounds))
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} CPUs")
    finally:
        if schema:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("INTAKE_TEST_SESSION_SECRET", "bench-session-secret")
    sys.exit(main())
