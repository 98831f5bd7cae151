"""`intake rules lint|test|eval`: check, explain and measure the classification rules."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from intake.cli.common import fail, settings_from_args, triage_file
from intake.config import ConfigError

if TYPE_CHECKING:
    from intake.classify.evaluate import Prediction, Sample
    from intake.triage import TriagePipeline


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    lint = actions.add_parser("lint", parents=[common],
                              help="check the rule files: every problem with file and line")
    lint.add_argument("dir", nargs="?", metavar="DIR",
                      help="rules directory (default: [rules] dir of the settings)")
    lint.set_defaults(handler=run_lint)

    test = actions.add_parser("test", parents=[common],
                              help="every rule that hits a message, the model and the decision")
    test.add_argument("files", nargs="+", metavar="FILE.eml")
    test.add_argument("--rules", metavar="DIR", help="rules directory to test instead")
    test.add_argument("--no-model", action="store_true", help="the rules alone, no trained model")
    test.set_defaults(handler=run_test)

    ev = actions.add_parser("eval", parents=[common],
                            help="precision/recall/F1 per right on a labelled directory")
    ev.add_argument("dir", metavar="DIR", help="a directory with labels.jsonl and the files")
    ev.add_argument("--rules", metavar="DIR", help="rules directory to evaluate instead")
    ev.add_argument("--no-model", action="store_true", help="the rules alone, no trained model")
    ev.add_argument("--baseline", metavar="FILE", help="compare with a saved report (JSON)")
    ev.add_argument("--save-baseline", metavar="FILE", help="save this report as a baseline")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--fail-under", type=float, metavar="F1",
                    help="exit 1 when micro-F1 is below this")
    ev.set_defaults(handler=run_eval)


def run_lint(args: argparse.Namespace) -> int:
    from intake.classify.lint import lint_rules

    try:
        directory = args.dir or settings_from_args(args, required=False).rules_dir
    except ConfigError as exc:
        return fail(str(exc))
    problems = lint_rules(directory)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"{directory}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _pipeline(args: argparse.Namespace) -> TriagePipeline:
    from dataclasses import replace

    from intake.triage import TriagePipeline

    settings = settings_from_args(args, required=False)
    if getattr(args, "rules", None):
        settings = replace(settings, rules_dir=str(Path(args.rules).resolve()))
    return TriagePipeline.from_settings(settings, with_model=not getattr(args, "no_model", False))


def run_test(args: argparse.Namespace) -> int:
    from intake.classify import RuleError

    try:
        pipeline = _pipeline(args)
    except (ConfigError, RuleError) as exc:
        return fail(str(exc))
    descriptions = {rule.name: rule.description for rule in pipeline.classifier.rules}
    status = 0
    for name in args.files:
        result, error = triage_file(pipeline, name)
        if result is None:
            status = fail(f"{name}: {error}", 1)
            continue
        c = result.classification
        print(f"== {name}")
        print(f"language: {c.language}")
        print(" pts rule name                         right               description")
        print("---- --------------------------------- ------------------- " + "-" * 30)
        for hit in c.hits:
            print(f"{hit.score:+4.1f} {hit.rule:<33} {hit.right:<19} "
                  f"{descriptions.get(hit.rule, '')} [matched '{hit.matched}']")
        if not c.hits:
            print("     (no rule hit)")
        other = [line for line in result.explanation if not _is_hit_line(line, c.hits)]
        print("decision:")
        for line in other:
            print(f"  {line}")
        print(f"rights: {', '.join(result.rights) or '(none)'}; confidence {result.confidence:.2f};"
              f" needs_review {str(result.needs_review).lower()}; disposition {result.disposition}")
    return status


def _is_hit_line(line: str, hits) -> bool:
    return any(line.startswith(f"{hit.rule} ") for hit in hits)


def run_eval(args: argparse.Namespace) -> int:
    from intake.classify import RuleError
    from intake.classify.evaluate import (
        EvalSetError,
        evaluate,
        format_report,
        load_samples,
    )

    try:
        samples = load_samples(args.dir)
        pipeline = _pipeline(args)
        baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    except (ConfigError, RuleError, EvalSetError) as exc:
        return fail(str(exc))
    except (OSError, json.JSONDecodeError) as exc:
        return fail(f"{args.baseline}: cannot read the baseline: {exc}")
    report = evaluate(samples, lambda sample: predict(pipeline, sample))
    data = report.to_json()
    if args.save_baseline:
        Path(args.save_baseline).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_report(report, baseline))
    if args.fail_under is not None and report.micro.f1 < args.fail_under:
        return fail(f"micro-F1 {report.micro.f1:.3f} is below {args.fail_under}", 1)
    return 0


def predict(pipeline: TriagePipeline, sample: Sample) -> Prediction:
    """Rights of one sample: an .eml goes through the whole triage, any other file is a body."""
    from intake.classify.evaluate import Prediction
    from intake.message import parse_message

    raw = sample.path.read_bytes()
    if sample.path.suffix.lower() == ".eml":
        from intake.classify.evaluate import NO_CASE_DISPOSITIONS, kind_of, stated_kind_of

        result = pipeline.triage(parse_message(raw))
        return Prediction(frozenset(result.rights), result.language, result.needs_review,
                          kind_of(result.disposition),
                          result.disposition not in NO_CASE_DISPOSITIONS, result.confidence,
                          stated_kind_of(result.disposition))
    c = pipeline.classifier.classify("", raw.decode("utf-8", errors="replace"))
    return Prediction(frozenset(c.rights), c.language, c.needs_review, confidence=c.confidence)
