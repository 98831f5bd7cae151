"""Reloading the rules of a running daemon: on SIGHUP or when a rule file changes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from intake.classify.errors import RuleError

if TYPE_CHECKING:
    from intake.classify.engine import Classifier

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(rules_dir: str | Path) -> Fingerprint:
    """Name, size and modification time of every YAML file in the directory."""
    directory = Path(rules_dir)
    found = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while we looked: the next check sees it
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


class RulesReloader:
    """Keeps a classifier current with its rules directory.

    `check()` rebuilds the classifier when a rule file changed or a reload was requested
    (SIGHUP). A directory that does not load is refused with one clear log line and the previous
    rules stay active; the same broken state is not reported again until the files change.
    """

    def __init__(
        self,
        rules_dir: str | Path,
        classifier: Classifier,
        seen: Fingerprint | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        """`seen`: the fingerprint of the files the classifier was built from, when it was
        taken before (a change while the worker was starting is then a change). `cache_dir`:
        see Classifier."""
        self.rules_dir = Path(rules_dir)
        self.classifier = classifier
        self.cache_dir = cache_dir
        self._seen = fingerprint(self.rules_dir) if seen is None else seen
        self._requested = threading.Event()
        self._lock = threading.Lock()

    def request(self) -> None:
        """Ask for a reload at the next check (safe to call from a signal handler)."""
        self._requested.set()

    def check(self) -> Classifier | None:
        """The new classifier when the rules were reloaded, else None."""
        with self._lock:
            requested = self._requested.is_set()
            self._requested.clear()
            current = fingerprint(self.rules_dir)
            if current == self._seen and not requested:
                return None
            self._seen = current
            why = "reload requested" if requested else "rule files changed"
            from intake.classify.engine import Classifier

            try:
                # Every language at once: new rules are only taken into use complete.
                classifier = Classifier.load(self.rules_dir, model=self.classifier.model,
                                             model_note=self.classifier.model_note,
                                             cache_dir=self.cache_dir)
            except RuleError as exc:
                log.error(
                    "rules not reloaded, previous rules stay active",
                    extra={"why": why, "file": exc.file, "rule": exc.rule or "-",
                           "problem": exc.problem},
                )
                return None
            except Exception as exc:  # e.g. spaCy refusing a pattern in an unexpected way
                log.error("rules not reloaded, previous rules stay active",
                          extra={"why": why, "error": f"{type(exc).__name__}: {exc}"})
                return None
            self.classifier = classifier
            log.info("rules reloaded", extra={"why": why, "rules": len(classifier.rules)})
            return classifier
