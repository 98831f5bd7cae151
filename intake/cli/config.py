"""`intake config check FILE`: validate a settings file and print a summary."""

from __future__ import annotations

import argparse
import re
import sys

from intake.cli.common import fail
from intake.config import ConfigError, config_path_from, load_settings


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="validate a settings file and print a summary", parents=[common]
    )
    check.add_argument(
        "file",
        nargs="?",
        help="the settings file (default: --config / $INTAKE_CONFIG / /etc/dpo-intake/intake.toml)",
    )
    check.add_argument(
        "--credentials-source", metavar="DIR", default=None,
        help="where the unit's LoadCredential= files live, to check them outside systemd "
        "(default: /etc/dpo-intake/credentials)")
    check.add_argument(
        "--file-only", action="store_true",
        help="check the file alone: not the secrets, folders and model it points to")
    check.add_argument(
        "--connect",
        action="store_true",
        help="also obtain tokens and log in to every mailbox and to SMTP (network)",
    )
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    path = args.file or config_path_from(args.config)
    if path is None:
        return fail("no settings file given")
    from pathlib import Path

    from intake.configcheck import DEFAULT_CREDENTIALS_SOURCE, environment_problems

    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return fail(f"{len(exc.problems)} problem(s) in {path}")
    source = Path(args.credentials_source) if getattr(args, "credentials_source", None) \
        else DEFAULT_CREDENTIALS_SOURCE
    problems = [] if args.file_only else environment_problems(settings, credentials_source=source)
    errors = [p for p in problems if not p.warning]
    for problem in problems:
        print(problem.line(settings.source), file=sys.stderr)
    if errors:
        return fail(f"{len(errors)} problem(s) that would fail at run time")
    print(f"{settings.source}: OK")
    print(f"  database: {_safe_url(settings.database.url)}")
    smtp = settings.smtp
    if smtp.transport == "file":
        print(f"  replies: written as .eml files to {smtp.file_dir}")
    else:
        print(
            f"  replies: SMTP {smtp.host}:{smtp.port} tls={smtp.tls} user={smtp.username or '-'} "
            f"password={smtp.password.describe()}"
        )
    if smtp.oauth2 is not None:
        print(f"    login: {smtp.oauth2.describe()}")
    print(f"  trust anchors: {settings.trust.anchors_dir}")
    print(f"  rules: {settings.rules_dir}")
    for m in settings.mailboxes:
        print(
            f"  mailbox {m.key}: {m.controller} <{m.address}> refs {m.reference_prefix}-YYYY-NNNN"
        )
        if m.imap:
            i = m.imap
            print(
                f"    source: IMAP {i.host}:{i.port} tls={i.tls} user={i.username} "
                f"password={i.password.describe()} folder={i.folder} after={i.after}"
                + (f" -> {i.move_to}" if i.after == "move" else "")
            )
            if i.oauth2 is not None:
                print(f"    login: {i.oauth2.describe()}")
        elif m.maildir:
            print(f"    source: Maildir {m.maildir.path} after={m.maildir.after}")
        print(
            f"    replies in: {', '.join(m.reply_languages)}; extra holidays: "
            f"{', '.join(m.extra_holidays) or 'none'}; retention {m.retention_years} years"
        )
        print(f"    identity proof required for: {', '.join(m.identity_required_for) or 'nothing'}")
    if getattr(args, "connect", False):
        from intake.doctor import report_connections

        return report_connections(settings)
    return 0


def _safe_url(url: str) -> str:
    """The database URL with any password masked (SQLAlchemy stays unimported: a fast check)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
