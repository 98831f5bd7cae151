"""`intake inspect FILE.eml …`: the triage of each file, without database or network."""

from __future__ import annotations

import argparse
import json
import sys

from intake.cli.common import fail, settings_from_args, triage_file
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    p.add_argument("files", nargs="+", metavar="FILE.eml")
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON Lines)")
    p.add_argument("--trust-anchors", metavar="DIR",
                   help="directory of trusted CA certificates (PEM) for signature checks")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from intake.classify import RuleError
    from intake.triage import TriagePipeline

    try:
        settings = settings_from_args(args, required=False)
        pipeline = TriagePipeline.from_settings(settings, trust_anchors_dir=args.trust_anchors)
    except (ConfigError, RuleError) as exc:
        return fail(str(exc))
    status = 0
    for name in args.files:
        result, error = triage_file(pipeline, name)
        if result is None:
            status = fail(f"{name}: {error}", 1)
            _error_line(args, name, str(error))
            continue
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            data = result.to_json()
            print(f"== {name}")
            for key in ("kind", "language", "rights", "confidence", "needs_review", "case_ref",
                        "would_acknowledge", "disposition"):
                print(f"  {key}: {data[key]}")
            print(f"  identity: {data['identity']['status']}")
            for line in data["explanation"]:
                print(f"    {line}")
        sys.stdout.flush()
    return status


def _error_line(args: argparse.Namespace, name: str, error: str) -> None:
    # Keep one line per file in --json mode so consumers can zip output with input.
    if args.json:
        print(json.dumps({"file": name, "error": error}, ensure_ascii=False))
