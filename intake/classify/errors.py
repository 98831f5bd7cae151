"""The error raised when a rule or threshold file is not usable."""

from __future__ import annotations


class RuleError(ValueError):
    """A problem in a rules file, naming the file, the rule (if any) and the problem."""

    def __init__(self, file: str, rule: str | None, problem: str) -> None:
        self.file = file
        self.rule = rule
        self.problem = problem
        where = f"{file}: {rule}" if rule else file
        super().__init__(f"{where}: {problem}")
