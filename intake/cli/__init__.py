"""The `intake` command: one sub-command per module, each imported only when it runs."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from intake.logs import setup_logging

# name -> (module, help). Modules are imported lazily so `intake deadline` never loads spaCy.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("intake.cli.run", "poll the mailboxes and process messages (the daemon)"),
    "inspect": ("intake.cli.inspect", "triage .eml files without database or network"),
    "deadline": ("intake.cli.deadline", "print the legal due date for a receipt date"),
    "config": ("intake.cli.config", "validate a settings file"),
    "db": ("intake.cli.db", "database migrations"),
    "cases": ("intake.cli.cases", "list, show and change cases; export the register"),
    "retention": ("intake.cli.retention", "purge what is past retention (or --dry-run)"),
    "rules": ("intake.cli.rules", "lint, test and evaluate the classification rules"),
    "model": ("intake.cli.model", "train the right classifier; export staff corrections"),
    "digest": ("intake.cli.digest", "preview or send the staff digest"),
    "status": ("intake.cli.status", "health of the service: mailboxes, outbox, database"),
    "messages": ("intake.cli.messages", "every recorded message and its fate; open a case"),
    "web": ("intake.cli.web", "serve the staff web console"),
}


def _common_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", metavar="FILE", help="settings file (default: $INTAKE_CONFIG, "
                        "then /etc/dpo-intake/intake.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _common_options(argparse.ArgumentParser(prog="intake", description=__doc__))
    # The same options after the sub-command; SUPPRESS keeps a value given before it.
    common = _common_options(argparse.ArgumentParser(add_help=False,
                                                     argument_default=argparse.SUPPRESS))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in sys.argv[1:] if a in COMMANDS), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module).register(sub, name, help_text, common)
        else:
            sub.add_parser(name, help=help_text, parents=[common])
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    if hasattr(signal, "SIGPIPE"):  # `intake cases list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args()
    setup_logging(getattr(args, "verbose", False))
    handler = getattr(args, "handler", None)
    if handler is None:  # a sub-command that was registered as a stub (should not happen)
        parser.error(f"unknown command {args.command!r}")
    try:
        return int(handler(args) or 0)
    except Exception as exc:
        problem = database_problem(exc)
        if problem is None:
            raise
        print(f"intake: error: {problem}", file=sys.stderr)
        return 2


def database_problem(exc: BaseException) -> str | None:
    """One line for a database that cannot be reached or is not migrated; None for other errors.

    No traceback for these: they are the operator's to fix, and the line says how.
    """
    from intake.store.db import DatabaseNotReady

    if isinstance(exc, DatabaseNotReady):
        return str(exc)
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        return f"cannot use the database: {first[:300]}"
    return None


if __name__ == "__main__":
    sys.exit(main())
