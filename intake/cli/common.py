"""Helpers the sub-commands share: loading settings and reporting errors the same way."""

from __future__ import annotations

import argparse
import sys

from intake.config import ConfigError, Settings, config_path_from, default_settings, load_settings


def settings_from_args(args: argparse.Namespace, required: bool = True) -> Settings:
    """Settings from --config / $INTAKE_CONFIG / /etc; defaults when not required and none found."""
    path = config_path_from(getattr(args, "config", None))
    if path is None:
        if required:
            raise ConfigError("-", "--config", "no settings file: pass --config FILE or set "
                              "INTAKE_CONFIG (or create /etc/dpo-intake/intake.toml)")
        return default_settings()
    return load_settings(path)


def fail(message: str, code: int = 2) -> int:
    """Print an error for a person and return the exit code."""
    print(f"intake: error: {message}", file=sys.stderr)
    return code
