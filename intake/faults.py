"""Fault injection for crash tests: INTAKE_FAULTS makes the process kill itself at named points.

INTAKE_FAULTS="processor.after_commit=0.05,outbox.before_data=0.02" means: at each pass through
that point, SIGKILL this process with that probability. Unset (always, in production): no hook
at all. bench/chaos.py uses it to die exactly between commit and server flag, or mid-SMTP.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from typing import Any

ENV = "INTAKE_FAULTS"


def _rates(prefix: str) -> dict[str, float]:
    spec = os.environ.get(ENV, "")
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        scope, _, point = name.partition(".")
        if scope == prefix and point:
            rates[point] = float(value or 1)
    return rates


def _hook(prefix: str) -> Callable[..., None] | None:
    rates = _rates(prefix)
    if not rates:
        return None
    rng = random.Random()

    def hook(point: str, *_context: Any) -> None:
        if rng.random() < rates.get(point, 0.0):
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def processor_hook() -> Callable[..., None] | None:
    """A Processor fault_hook from INTAKE_FAULTS ("processor.<point>=p"), or None."""
    return _hook("processor")


def outbox_hook() -> Callable[..., None] | None:
    """A flush_outbox fault_hook from INTAKE_FAULTS ("outbox.<point>=p"), or None."""
    return _hook("outbox")
