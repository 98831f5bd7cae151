"""`intake rules lint`: every problem in the rule files at once, with file and line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from intake.classify.errors import RuleError
from intake.classify.rules import THRESHOLDS_FILE, Rule, parse_rule, rule_files


@dataclass(frozen=True)
class LintProblem:
    """One problem: where it is and what is wrong. Errors stop the daemon from loading the rules."""

    file: str
    line: int | None
    rule: str | None
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f" {self.rule}:" if self.rule else ""
        return f"{where}: {self.severity}:{rule} {self.message}"


def lint_rules(rules_dir: str | Path) -> list[LintProblem]:
    """Check every rule file and the thresholds file; an empty list means the rules load."""
    directory = Path(rules_dir)
    if not directory.is_dir():
        return [LintProblem(str(directory), None, None, "no such rules directory")]
    files = rule_files(directory)
    if not files:
        return [LintProblem(str(directory), None, None, "no rule files (*.yaml)")]
    problems: list[LintProblem] = []
    first_seen: dict[str, tuple[str, int | None]] = {}
    rules: list[tuple[Rule, int | None]] = []
    for path in files:
        for rule, line in _lint_file(path, problems):
            if rule.name in first_seen:
                other_file, other_line = first_seen[rule.name]
                problems.append(LintProblem(
                    rule.file, line, rule.name,
                    f"duplicate rule name, first defined in {other_file}:{other_line}",
                ))
                continue
            first_seen[rule.name] = (rule.file, line)
            rules.append((rule, line))
    problems += _lint_matchers(rules)
    problems += _lint_thresholds(directory)
    return problems


def _lint_file(path: Path, problems: list[LintProblem]) -> list[tuple[Rule, int | None]]:
    """The rules of one file that parse, with their line; problems of the others are added."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except OSError as exc:
        problems.append(LintProblem(path.name, None, None, f"cannot read: {exc.strerror}"))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(LintProblem(path.name, line, None, f"not valid YAML: {exc}"))
        return []
    if not isinstance(data, Mapping) or set(data) != {"rules"}:
        problems.append(LintProblem(path.name, 1, None,
                                    "expected one top-level key 'rules' holding a list"))
        return []
    entries = data["rules"]
    if not isinstance(entries, list) or not entries:
        problems.append(LintProblem(path.name, 1, None, "'rules' must be a non-empty list"))
        return []
    lines = _entry_lines(root)
    parsed = []
    for index, entry in enumerate(entries, 1):
        line = lines[index - 1] if index - 1 < len(lines) else None
        try:
            parsed.append((parse_rule(path.name, index, entry), line))
        except RuleError as exc:
            problems.append(LintProblem(path.name, line, exc.rule, exc.problem))
            continue
        problems += _warnings(parsed[-1][0], line)
    return parsed


def _entry_lines(root: Any) -> list[int]:
    """1-based line of each item of the top-level `rules` list of a composed YAML document."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _warnings(rule: Rule, line: int | None) -> list[LintProblem]:
    """What loads but is probably a mistake."""
    found = []
    for number, pattern in enumerate(rule.patterns, 1):
        for token in pattern:
            for spec in token.values():
                if isinstance(spec, Mapping) and any(
                    op in ("IN", "NOT_IN") and isinstance(v, list) and not v
                    for op, v in spec.items()
                ):
                    found.append(LintProblem(rule.file, line, rule.name,
                                             f"pattern {number}: an empty IN list never matches"))
    folded = [" ".join(p.lower().split()) for p in rule.phrases]
    for phrase in sorted({p for p in folded if folded.count(p) > 1}):
        found.append(LintProblem(rule.file, line, rule.name,
                                 f"phrase {phrase!r} is listed twice", "warning"))
    if abs(rule.score) > 20:
        found.append(LintProblem(rule.file, line, rule.name,
                                 f"score {rule.score:+g} outweighs any threshold on its own",
                                 "warning"))
    return found


def _lint_matchers(rules: list[tuple[Rule, int | None]]) -> list[LintProblem]:
    """Compile each rule's token patterns the way the engine does: spaCy's own validation."""
    import spacy
    from spacy.matcher import Matcher

    problems = []
    vocabs: dict[str, Any] = {}
    for rule, line in rules:
        if not rule.patterns:
            continue
        lang = rule.languages[0]
        if lang not in vocabs:
            vocabs[lang] = spacy.blank(lang).vocab
        matcher = Matcher(vocabs[lang], validate=True)
        for number, pattern in enumerate(rule.patterns, 1):
            try:
                matcher.add(f"{rule.name}_{number}", [list(pattern)])
            except (ValueError, TypeError, KeyError) as exc:
                detail = " ".join(str(exc).split())[:300]
                problems.append(LintProblem(rule.file, line, rule.name,
                                            f"pattern {number}: {detail}"))
    return problems


def _lint_thresholds(directory: Path) -> list[LintProblem]:
    from intake.classify.thresholds import load_thresholds

    if not (directory / THRESHOLDS_FILE).exists():
        return []
    try:
        load_thresholds(directory)
    except RuleError as exc:
        return [LintProblem(exc.file, None, exc.rule, exc.problem)]
    return []
