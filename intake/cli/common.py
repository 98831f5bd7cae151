"""Helpers the sub-commands share: loading settings and reporting errors the same way."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from intake.config import ConfigError, Settings, config_path_from, default_settings, load_settings

if TYPE_CHECKING:
    from intake.triage import TriagePipeline, TriageResult


def settings_from_args(args: argparse.Namespace, required: bool = True) -> Settings:
    """Settings from --config / $INTAKE_CONFIG / /etc; defaults when not required and none found."""
    path = config_path_from(getattr(args, "config", None))
    if path is None:
        if required:
            raise ConfigError("-", "--config", "no settings file: pass --config FILE or set "
                              "INTAKE_CONFIG (or create /etc/dpo-intake/intake.toml)")
        return default_settings()
    return load_settings(path)


def settings_with_mailboxes(args: argparse.Namespace) -> Settings:
    """Settings that define at least one mailbox (what the worker and the digest need)."""
    settings = settings_from_args(args)
    if not settings.mailboxes:
        raise ConfigError(settings.source, "mailbox", "no [[mailbox]] configured")
    return settings


def triage_file(pipeline: TriagePipeline, name: str) -> tuple[TriageResult | None, str | None]:
    """The triage of one .eml file, or (None, why it could not be read or parsed)."""
    from intake.message import MessageParseError, parse_message

    try:
        return pipeline.triage(parse_message(Path(name).read_bytes())), None
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"
    except MessageParseError as exc:
        return None, str(exc)


def fail(message: str, code: int = 2) -> int:
    """Print an error for a person and return the exit code."""
    print(f"intake: error: {message}", file=sys.stderr)
    return code
