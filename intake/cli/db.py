"""`intake db upgrade|downgrade|current`: database schema migrations (Alembic)."""

from __future__ import annotations

import argparse

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("upgrade", help="bring the schema to the newest revision",
                       parents=[common]).set_defaults(handler=run_upgrade)
    down = actions.add_parser(
        "downgrade", parents=[common],
        help="take the schema back to REVISION (before rolling back the code; back up first)")
    down.add_argument("revision", help="the revision to go back to (see `intake db history`)")
    down.set_defaults(handler=run_downgrade)
    actions.add_parser("history", help="list the revisions, oldest first",
                       parents=[common]).set_defaults(handler=run_history)
    actions.add_parser("current", help="print the schema revision",
                       parents=[common]).set_defaults(handler=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from intake.store.db import current_revision, make_engine, upgrade

    try:
        engine = make_engine(settings_from_args(args).database.url)
        upgrade(engine)
        print(f"database at revision {current_revision(engine)}")
    except ConfigError as exc:
        return fail(str(exc))
    except OperationalError as exc:
        return fail(f"cannot reach the database: {exc.orig}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from intake.store.db import current_revision, head_revision, make_engine

    try:
        engine = make_engine(settings_from_args(args).database.url)
        current = current_revision(engine)
    except ConfigError as exc:
        return fail(str(exc))
    except OperationalError as exc:
        return fail(f"cannot reach the database: {exc.orig}")
    head = head_revision()
    print(f"{current or 'none'} (newest: {head})")
    return 0 if current == head else 1


def run_downgrade(args: argparse.Namespace) -> int:
    from intake.store.db import current_revision, downgrade, known_revisions, make_engine

    if args.revision not in (*known_revisions(), "base"):
        return fail(f"unknown revision {args.revision!r} (known: "
                    f"{', '.join(known_revisions())}, base)")
    try:
        engine = make_engine(settings_from_args(args).database.url)
        downgrade(engine, args.revision)
        print(f"database at revision {current_revision(engine) or 'base'}")
    except ConfigError as exc:
        return fail(str(exc))
    return 0


def run_history(args: argparse.Namespace) -> int:
    from intake.store.db import known_revisions

    for revision in known_revisions():
        print(revision)
    return 0
