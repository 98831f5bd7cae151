"""Benchmark: a backlog of N messages through intake vs. the bare floor (fetch + parse + send).

    .venv/bin/python bench/backlog.py [-n 2000] [--db sqlite|postgresql]

Starts the test suite's private Dovecot and SMTP server (STARTTLS + AUTH), loads N text-only
fictional messages, and times in one run:
  (a) the floor: a bare imapclient fetch + mail-parser parse of all of them, and a bare smtplib
      send of one reply per message over one connection;
  (b) `intake run --once` (Worker.run_once) on the same backlog, through to every
      acknowledgement delivered; and intake alone (to committed cases + queued acks).
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import smtplib
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mailparser  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from intake.daemon import Worker  # noqa: E402
from intake.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from intake.store.models import Case, Message, OutboxItem  # noqa: E402
from intake.store.timezone import BRUSSELS  # noqa: E402
from intake.triage import TriagePipeline  # noqa: E402
from tests import mailgen  # noqa: E402
from tests.fixtures import dovecot as dovecot_fixture  # noqa: E402
from tests.fixtures import smtp as smtp_fixture  # noqa: E402
from tests.fixtures.pipeline import AGO, WSE, mailbox, make_settings  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RECEIVED = datetime(2026, 9, 14, 9, 0, tzinfo=BRUSSELS)


def load(server, messages: list[bytes]) -> None:
    with server.client() as client:
        if not client.folder_exists("WSE"):
            client.create_folder("WSE")
        for raw in messages:
            folder = "WSE" if b"dpo.wse@" in raw.split(b"\r\n\r\n", 1)[0] else "INBOX"
            client.append(folder, raw, msg_time=RECEIVED)


def floor(server, smtp) -> tuple[float, float, int]:
    """Bare fetch + parse of every message, then one bare reply per message on one connection."""
    start = time.perf_counter()
    parsed = 0
    with server.client() as client:
        for folder in ("INBOX", "WSE"):
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            for i in range(0, len(uids), 100):
                for data in client.fetch(
                    uids[i : i + 100], ["BODY.PEEK[]", "INTERNALDATE"]
                ).values():
                    mailparser.parse_from_bytes(data[b"BODY[]"])
                    parsed += 1
    fetch_parse = time.perf_counter() - start

    start = time.perf_counter()
    context = ssl.create_default_context(cafile=smtp.ca_file)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as conn:
        conn.starttls(context=context)
        conn.login(smtp.username, smtp.password)
        for i in range(parsed):
            reply = EmailMessage()
            reply["From"], reply["To"] = "dpo.ago@vlaanderen.be", f"r{i}@example.be"
            reply["Subject"] = f"[DPO-AGO-2026-{i:04d}] Ontvangstbevestiging"
            reply["Message-ID"] = f"<{uuid.uuid4().hex}@vlaanderen.be>"
            reply.set_content("Wij hebben uw verzoek goed ontvangen.\n" * 20)
            conn.send_message(reply)
    send = time.perf_counter() - start
    return fetch_parse, send, parsed


def per_mailbox_processes(settings, pipeline) -> tuple[list, dict, float]:
    """One forked worker per mailbox, as `intake run --once --mailbox KEY` each; the pipeline
    is built before the fork, so start-up is not counted, as in the one-process case."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def work(box) -> None:
        report = Worker(settings, pipeline=pipeline, mailboxes=[box]).run_once()
        results.put((report.passes, vars(report.outbox), report.polling_seconds))

    children = [context.Process(target=work, args=(box,)) for box in settings.mailboxes]
    for child in children:
        child.start()
    got = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    passes = [p for g in got for p in g[0]]
    flushed = {
        k: sum(g[1][k] or 0 for g in got) for k in ("sent", "retried", "failed", "uncertain")
    }
    return passes, flushed, max(g[2] for g in got)


def database_url(kind: str, tmp: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


@contextmanager
def services(db: str, prefix: str) -> Iterator[tuple[Any, Any, str]]:
    """The test suite's private Dovecot and SMTP server (STARTTLS + AUTH), and an empty database.

    Yields (Dovecot server, SMTP server, database URL); stops and drops them afterwards.
    """
    server = dovecot_fixture.start_dovecot()
    os.environ[dovecot_fixture.PASSWORD_ENV] = server.password
    os.environ[smtp_fixture.PASSWORD_ENV] = smtp_fixture.SMTP_PASSWORD
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_name:
        tmp = Path(tmp_name)
        tls = smtp_fixture.make_tls_files(tmp)
        db_url, drop_db = database_url(db, tmp)
        try:
            with smtp_fixture.run_smtp_server(tls, "starttls") as smtp:
                yield server, smtp, db_url
        finally:
            dovecot_fixture.stop_dovecot(server)
            drop_db()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="messages in the backlog")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: one worker process per mailbox (intake run --mailbox KEY)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    messages = list(mailgen.backlog(args.n, seed=args.seed))
    with services(args.db, "bench-") as (server, smtp, db_url):
        t = time.perf_counter()
        load(server, messages)
        print(
            f"loaded {len(messages)} messages into Dovecot in "
            f"{time.perf_counter() - t:.1f} s"
        )

        fetch_parse, send, parsed = floor(server, smtp)
        floor_total = fetch_parse + send
        smtp_before = len(smtp.received)

        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        settings = make_settings(
            db_url,
            [
                mailbox(AGO, server.imap_settings()),
                mailbox(WSE, server.imap_settings(folder="WSE")),
            ],
            replace(smtp.settings(), replies_per_sender_per_day=10_000),
        )
        t = time.perf_counter()
        pipeline = TriagePipeline.from_settings(settings)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        if args.processes == 1:
            report = Worker(settings, pipeline=pipeline).run_once()
            full = time.perf_counter() - t
            passes, flushed = report.passes, vars(report.outbox)
            intake_alone = report.polling_seconds
        else:
            passes, flushed, intake_alone = per_mailbox_processes(settings, pipeline)
            full = time.perf_counter() - t
        delivered = len(smtp.received) - smtp_before

        engine = make_engine(db_url)
        with make_session_factory(engine)() as s:
            cases = s.scalar(select(func.count()).select_from(Case))
            recorded = s.scalar(select(func.count()).select_from(Message))
            sent = s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status == "sent")
            )
        engine.dispose()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seen = sum(p.seen for p in passes)
    print(
        f"database: {args.db}; messages: {parsed} parsed by the floor, {seen} seen by intake, "
        f"{recorded} recorded, {cases} cases, {sent} acknowledgements sent "
        f"({delivered} received by the SMTP server; outbox {flushed})"
    )
    print(
        f"(a) floor: fetch+parse {fetch_parse:.2f} s + bare send {send:.2f} s "
        f"= {floor_total:.2f} s ({parsed / floor_total:.0f} msg/s)"
    )
    print(
        f"(b) intake run --once ({args.processes} process(es)): {full:.2f} s "
        f"({seen / full:.0f} msg/s); intake alone (all "
        f"recorded, replies queued; the sender runs beside it) {intake_alone:.2f} s; "
        f"start-up (rules, language models) {startup:.2f} s not included"
    )
    print(f"ratio (b)/(a) = {full / floor_total:.2f}   (target <= 1.5)")
    print(f"intake alone / bare fetch+parse = {intake_alone / fetch_parse:.2f}   (target <= 3)")
    print(f"peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
