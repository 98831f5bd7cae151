"""The child side of the sandbox: read a job, run it under the limits, answer in JSON.

Started by sandbox.Sandbox as `python -m intake.untrusted.child MEMORY_BYTES`. Frames on
stdin/stdout are a 4-byte big-endian length and a body (pickle in, JSON out). Anything else
written to stdout goes to stderr, so a library that prints cannot break the protocol.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import pickle
import resource
import struct
import sys

_HEADER = struct.Struct(">I")


def _read_exact(stream, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    memory = int(sys.argv[1])
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    logging.disable(logging.CRITICAL)  # findings travel back in the answer, not in logs

    # Under a cgroup memory limit (systemd MemoryMax), the kernel's OOM killer takes this
    # child first, not the worker: raising one's own score needs no privilege.
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as score:
        score.write("1000")
    from intake.untrusted.jobs import JOBS  # the heavy imports, before the limits apply

    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed decoder leaves no core file
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    out.write(b"R")
    while True:
        header = _read_exact(inp, _HEADER.size)
        if header is None:
            return 0
        body = _read_exact(inp, _HEADER.unpack(header)[0])
        if body is None:
            return 0
        job, args, cpu_seconds = pickle.loads(body)
        soft = math.ceil(_cpu_used()) + int(cpu_seconds)
        if cpu_hard != resource.RLIM_INFINITY:
            soft = min(soft, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        fatal = False
        try:
            answer: dict[str, object] = {"ok": JOBS[job](*args)}
        except MemoryError:
            answer, fatal = {"error": "MemoryError"}, True
        except RecursionError:
            answer = {"error": "RecursionError"}
        except Exception as exc:  # the parent turns it into a finding
            answer = {"error": type(exc).__name__}
        try:
            data = json.dumps(answer).encode()
        except MemoryError:
            data, fatal = b'{"error": "MemoryError"}', True
        out.write(_HEADER.pack(len(data)) + data)
        if fatal:
            return 3


if __name__ == "__main__":
    sys.exit(main())
