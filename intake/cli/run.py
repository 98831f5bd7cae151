"""`intake run`: the long-running worker, or one pass with --once."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from intake.cli.common import fail, settings_with_mailboxes
from intake.config import ConfigError, Settings


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    p.add_argument(
        "--once",
        action="store_true",
        help="process every mailbox once, deliver the outbox, and exit",
    )
    p.add_argument("--json", action="store_true", help="with --once: print the pass report as JSON")
    p.add_argument("--mailbox", metavar="KEY", action="append",
                   help="only this mailbox (repeatable): e.g. one worker process per controller")
    # Two workers on one host (systemd/dpo-intake@.service) cannot share one endpoint or file.
    p.add_argument("--metrics-listen", metavar="HOST:PORT",
                   help="this process's metrics endpoint instead of [metrics] listen "
                   "(e.g. a second worker on 127.0.0.1:9469); 'off': none")
    p.add_argument("--metrics-textfile", metavar="FILE",
                   help="this process's metrics file instead of [metrics] textfile; 'off': none")
    p.set_defaults(handler=run)


def with_metrics_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with --metrics-listen / --metrics-textfile applied ('off' turns one off)."""
    listen = getattr(args, "metrics_listen", None)
    textfile = getattr(args, "metrics_textfile", None)
    if listen is None and textfile is None:
        return settings
    metrics = settings.metrics
    if listen is not None:
        listen = "" if listen == "off" else listen
        host, _, port = listen.rpartition(":")
        if listen and (not host or not port.isdigit() or not 1 <= int(port) <= 65535):
            raise ConfigError("command line", "--metrics-listen", f"{listen!r} is not HOST:PORT "
                              "(e.g. 127.0.0.1:9469)")
        metrics = replace(metrics, listen=listen)
    if textfile is not None:
        metrics = replace(metrics, textfile="" if textfile == "off" else textfile)
    return replace(settings, metrics=metrics)


def run(args: argparse.Namespace) -> int:
    from intake.startup import pause_gc

    pause_gc()  # until the triage pipeline is built (intake.startup)
    from intake.classify.errors import RuleError
    from intake.daemon import Worker
    from intake.store.db import DatabaseNotReady

    try:
        settings = with_metrics_options(settings_with_mailboxes(args), args)
        only = [settings.mailbox(key) for key in args.mailbox or ()]
        # The classifier loads in the background from here (intake.startup).
        worker = Worker(settings, mailboxes=only or None)
        if not args.once:
            worker.run_forever()  # raises what stopped the classifier from loading
            return 0
        worker.pipeline.wait()
    except (ConfigError, DatabaseNotReady, RuleError) as exc:
        return fail(str(exc))
    report = worker.run_once()
    if args.json:
        print(
            json.dumps(
                {
                    "mailboxes": [vars(p) for p in report.passes],
                    "outbox": vars(report.outbox),
                    "errors": report.errors,
                },
                ensure_ascii=False,
            )
        )
    else:
        for p in report.passes:
            print(
                f"{p.mailbox}: {p.seen} seen, {p.recorded} recorded, "
                f"{p.cases_opened} cases opened, "
                f"{p.duplicates} duplicates, {p.already_recorded} already recorded, "
                f"{p.quarantined} quarantined"
            )
        for key, error in report.errors.items():
            print(f"{key}: NOT PROCESSED: {error}")
        o = report.outbox
        print(
            f"outbox: {o.sent} sent, {o.retried} to retry, {o.failed} failed, "
            f"{o.uncertain} uncertain"
        )
    return 1 if report.errors else 0
