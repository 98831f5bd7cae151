"""The worker's start: the triage pipeline is built in a thread while the worker gets to work."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intake.classify import Classifier
    from intake.message import ParsedMessage
    from intake.triage import TriagePipeline, TriageResult

log = logging.getLogger(__name__)
_gc_paused = False


def pause_gc() -> None:
    """No cyclic garbage collection while the worker starts: the imports and the classifier
    allocate millions of long-lived objects, and collecting them over and over is ~15% of the
    start. resume_gc() (called when the pipeline is built) turns it back on."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Collection back on, if pause_gc() turned it off; what the start built is frozen (kept
    out of later collections: it lives as long as the process)."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


class DeferredPipeline:
    """Stands in for a TriagePipeline that a background thread is still building.

    Loading the classifier (spaCy, the trained model, the rules) is most of a worker's start.
    Meanwhile the worker opens the database, takes its mailbox locks, polls, flags what its
    predecessor recorded but could not flag, and delivers pending replies; nothing is triaged
    before the pipeline is there: `wait()` (and `triage()`) block until it is, and re-raise what
    stopped it from being built (a rule error, say). The processor waits before it marks a
    message in flight, so a worker killed while loading never counts as dying on a message.
    """

    def __init__(self, build: Callable[[], TriagePipeline],
                 on_error: Callable[[BaseException], None] | None = None,
                 on_ready: Callable[[], None] | None = None) -> None:
        self._build = build
        self._on_error = on_error
        self._on_ready = on_ready
        self._done = threading.Event()
        self._pipeline: TriagePipeline | None = None
        self._error: BaseException | None = None
        self.seconds: float | None = None  # how long the build took
        self._thread = threading.Thread(target=self._run, name="pipeline-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self._pipeline = self._build()
        except BaseException as exc:  # handed to whoever waits; the worker stops on it
            self._error = exc
            log.error("triage pipeline not loaded",
                      extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            if self._on_error is not None:
                self._on_error(exc)
        finally:
            self.seconds = time.perf_counter() - started
            resume_gc()
            self._done.set()
        if self._pipeline is not None:
            log.info("triage pipeline loaded", extra={"seconds": round(self.seconds, 2)})
            if self._on_ready is not None:
                self._on_ready()

    def ready(self) -> bool:
        """True once built (or failed): `wait()` no longer blocks."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> TriagePipeline:
        """The pipeline, once built; raises what stopped it, or TimeoutError."""
        if not self._done.wait(timeout):
            raise TimeoutError("the triage pipeline is still loading")
        if self._error is not None:
            raise self._error
        assert self._pipeline is not None
        return self._pipeline

    def triage(self, msg: ParsedMessage) -> TriageResult:
        return self.wait().triage(msg)

    @property
    def classifier(self) -> Classifier:
        return self.wait().classifier

    @classifier.setter
    def classifier(self, classifier: Classifier) -> None:
        self.wait().classifier = classifier
