"""The parent side of the sandbox: one reused child process that decodes untrusted files.

Every decoder of attachment content (Pillow, pdfium, Tesseract, zip/DOCX, pyHanko, signxml)
runs in `intake.untrusted.child` under RLIMIT_AS and RLIMIT_CPU, with a wall-time limit, a cap
on the resident memory of the child and its Tesseract together (watched from here while the
worker waits) and a cap on the size of its answer enforced here. A child over a limit is killed
(its whole process group, Tesseract included) and the call raises LimitReached; the next call
starts a new child.
The child is started on first use, so mail without attachments never pays for it.

Requests go to the child as pickles (we trust what we send); answers come back as JSON, never
pickles, so a child subverted by a hostile file cannot run code in the worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_ENV_KEPT = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH",
                       "TESSDATA_PREFIX", "VIRTUAL_ENV"})
START_SECONDS = 60.0  # imports of the child (pdfium, pyHanko, lxml, numpy): ~1 s normally
WATCH_SECONDS = 0.05  # how often the resident memory of a working child is looked at


@dataclass(frozen=True)
class SandboxLimits:
    """Hard limits of the child, per examination (one attachment or one signature)."""

    memory_mb: int = 320  # RLIMIT_AS of the child process (and of the Tesseract it starts)
    cpu_seconds: int = 15  # CPU time per examination (RLIMIT_CPU, raised before each call)
    wall_seconds: float = 18.0  # wall time per examination
    message_seconds: float = 22.0  # all examinations of one message together (target: 30 s)
    max_output_bytes: int = 4 << 20  # the answer of one examination
    # Resident memory of the child and its children (Tesseract) together; None: 3/4 of
    # memory_mb. RLIMIT_AS bounds each process alone; this bounds what the two hold at once.
    resident_mb: int | None = None

    @property
    def resident_bytes(self) -> int:
        return (self.resident_mb if self.resident_mb is not None
                else self.memory_mb * 3 // 4) << 20


class LimitReached(Exception):
    """The examination was stopped: `reason` says which limit (for "not examined: …")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExaminationFailed(Exception):
    """The job raised in the child; `kind` is the exception's type name."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Sandbox:
    """A reused child process with hard limits; `call` runs one job of child.JOBS in it."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False  # the child has said "R" (imports done, limits set)
        self._lock = threading.RLock()
        self._local = threading.local()  # .deadline: of the message this thread examines
        self.started = 0  # children started (a measure of how often limits were hit)

    # --- the per-message budget -----------------------------------------------------------

    @contextlib.contextmanager
    def message(self) -> Iterator[None]:
        """All calls inside (in this thread) share the message budget (`message_seconds`)."""
        outer = getattr(self._local, "deadline", None)
        if outer is None:  # nested: the outer message's budget goes on
            self._local.deadline = time.monotonic() + self.limits.message_seconds
        try:
            yield
        finally:
            self._local.deadline = outer

    # --- calls ----------------------------------------------------------------------------

    def call(self, job: str, *args: Any) -> Any:
        """The JSON answer of `job(*args)` in the child; raises LimitReached or
        ExaminationFailed."""
        with self._lock:
            self._check_budget()
            proc = self._child()
            # the start of a child counts against the message
            left = self._check_budget()
            wall = min(self.limits.wall_seconds, left)
            over = (f"limit reached: more than {wall:g} s" if wall < left else
                    f"limit reached: the message's {self.limits.message_seconds:g} s for "
                    "attachments were used up")
            request = pickle.dumps((job, args, self.limits.cpu_seconds),
                                   protocol=pickle.HIGHEST_PROTOCOL)
            started = time.monotonic()
            try:
                assert proc.stdin is not None
                proc.stdin.write(_HEADER.pack(len(request)) + request)
                proc.stdin.flush()
                answer = self._answer(proc, started + wall, over)
            except LimitReached:
                raise
            except (BrokenPipeError, OSError, EOFError):
                raise LimitReached(self._death_reason(proc)) from None
            if "error" in answer:
                if answer["error"] == "MemoryError":
                    self._replace()  # a child that ran out of memory may be in a bad state
                    raise LimitReached(
                        f"limit reached: more than {self.limits.memory_mb} MB of memory")
                raise ExaminationFailed(str(answer["error"])[:80])
            return answer["ok"]

    def _check_budget(self) -> float:
        """Seconds left of the message's budget (inf outside a message); raises if none."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return float("inf")
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise LimitReached(f"limit reached: the message's {self.limits.message_seconds:g} s "
                               "for attachments were used up")
        return left

    def _answer(self, proc: subprocess.Popen[bytes], deadline: float, over: str
                ) -> dict[str, Any]:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        header = self._read(proc, fd, _HEADER.size, deadline, over)
        (size,) = _HEADER.unpack(header)
        if size > self.limits.max_output_bytes:
            self._replace()
            raise LimitReached(f"limit reached: an answer of more than "
                               f"{self.limits.max_output_bytes >> 20} MB")
        return json.loads(self._read(proc, fd, size, deadline, over))

    def _read(self, proc: subprocess.Popen[bytes], fd: int, size: int, deadline: float,
              over: str) -> bytes:
        """`size` bytes from the child by `deadline`; past it the child is replaced and
        LimitReached(over) raised."""
        chunks: list[bytes] = []
        got = 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0:
                self._replace()
                raise LimitReached(over)
            if not select.select([fd], [], [], min(left, WATCH_SECONDS))[0]:
                if tree_resident(proc.pid) > self.limits.resident_bytes:
                    self._replace()
                    raise LimitReached(
                        f"limit reached: more than {self.limits.resident_bytes >> 20} MB of "
                        "memory (the decoder and its OCR together)")
                continue
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _death_reason(self, proc: subprocess.Popen[bytes]) -> str:
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self._replace()
        if code == -signal.SIGXCPU:
            return f"limit reached: more than {self.limits.cpu_seconds} s of CPU time"
        if code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, 3):
            # A C++ decoder (pdfium) that cannot allocate aborts; so may one that crashes.
            return (f"limit reached: the decoder stopped ({_signal_name(code)}), "
                    f"probably at the {self.limits.memory_mb} MB memory limit")
        return f"limit reached: the decoder stopped ({_signal_name(code)})"

    # --- the child ------------------------------------------------------------------------

    def _child(self) -> subprocess.Popen[bytes]:
        """The running child, started (or its start finished) now if need be."""
        if self._proc is None or self._proc.poll() is not None:
            self.stop()
            self._spawn()
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        if self._ready:
            return proc
        try:
            ready = self._read(proc, proc.stdout.fileno(), 1, time.monotonic() + START_SECONDS,
                               "the sandbox did not start")
        except (EOFError, OSError, LimitReached):
            ready = b""
        if ready != b"R":
            self.stop()
            raise LimitReached("limit reached: the sandbox did not start")
        self._ready = True
        log.info("sandbox started", extra={"pid": proc.pid, "memory_mb": self.limits.memory_mb})
        return proc

    def _spawn(self) -> None:
        """Start a child without waiting for it: it imports while the worker goes on."""
        # Only what decoding needs: the worker's secrets (passwords in the environment) must
        # not be readable by a child that a hostile file might subvert.
        env = {name: value for name, value in os.environ.items() if name in _ENV_KEPT}
        env.update(OMP_THREAD_LIMIT="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MALLOC_ARENA_MAX="2")
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake.untrusted.child", str(self.limits.memory_mb << 20)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True, close_fds=True)
        self._proc, self._ready = proc, False
        self.started += 1

    def _replace(self) -> None:
        """Kill a child that went over a limit and start its successor at once (in the
        background), so the next attachment does not wait for the imports."""
        self.stop()
        self._spawn()

    def stop(self) -> None:
        """Kill the child (and anything it started); the next call starts a new one."""
        proc, self._proc, self._ready = self._proc, None, False
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        with contextlib.suppress(Exception):
            self.stop()


def tree_resident(pid: int) -> int:
    """Resident bytes of a process and its descendants (VmRSS from /proc; 0 once gone).

    A child forked but not yet exec'd (subprocess between fork and exec) shares its parent's
    pages: it is not counted twice (its command line is still its parent's)."""
    total = 0
    stack = [(pid, b"")]
    while stack:
        current, parent_cmdline = stack.pop()
        try:
            with open(f"/proc/{current}/cmdline", "rb") as file:
                cmdline = file.read()
            if cmdline != parent_cmdline:
                with open(f"/proc/{current}/status", "rb") as file:
                    for line in file:
                        if line.startswith(b"VmRSS:"):
                            total += int(line.split()[1]) << 10
                            break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", "rb") as file:
                    stack.extend((int(child), cmdline) for child in file.read().split())
        except (OSError, ValueError):
            continue
    return total


def _signal_name(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-code).name
    return f"exit {code}"
