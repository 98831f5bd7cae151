"""`intake db upgrade|current`: database schema migrations (Alembic)."""

from __future__ import annotations

import argparse

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("upgrade", help="bring the schema to the newest revision",
                       parents=[common]).set_defaults(handler=run_upgrade)
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
