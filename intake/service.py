"""systemd integration: sd_notify (READY, STATUS, WATCHDOG) and a watchdog a stuck pass silences."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def sd_notify(state: str, environ: dict[str, str] | None = None) -> bool:
    """Tell systemd (Type=notify) about our state; False outside systemd or when it failed."""
    address = (environ if environ is not None else os.environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError as exc:
            log.warning("sd_notify failed", extra={"error": str(exc)})
            return False
    return True


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None when systemd wants none."""
    env = environ if environ is not None else os.environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for another process
    return int(usec) / 2_000_000


class Watchdog:
    """Tracks the passes in progress; `ping()` keeps systemd's watchdog fed only while none is
    stuck, so a pass that hangs (a silent server, a runaway parser) gets the service restarted."""

    def __init__(self, stuck_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stuck_after = stuck_after
        self.clock = clock
        self._running: dict[str, float] = {}
        self._lock = threading.Lock()
        self.status_line = ""

    def started(self, name: str) -> None:
        with self._lock:
            self._running[name] = self.clock()

    def finished(self, name: str) -> None:
        with self._lock:
            self._running.pop(name, None)

    def stuck(self) -> list[str]:
        """Names of the passes that have run longer than `stuck_after`."""
        now = self.clock()
        with self._lock:
            return [n for n, t in self._running.items() if now - t > self.stuck_after]

    def ping(self, environ: dict[str, str] | None = None) -> bool:
        """WATCHDOG=1 (with the STATUS line) unless a pass is stuck; True when pinged."""
        stuck = self.stuck()
        if stuck:
            log.error("pass stuck: watchdog pings stopped", extra={"passes": ",".join(stuck)})
            sd_notify(f"STATUS=stuck: {', '.join(stuck)}", environ)
            return False
        message = "WATCHDOG=1"
        if self.status_line:
            message += f"\nSTATUS={self.status_line}"
        return sd_notify(message, environ)
