"""Named locks that die with their holder: PostgreSQL advisory locks, or flock next to SQLite.

A worker that is killed (kill -9, power cut of the process) releases its locks at once: the
PostgreSQL server ends the session when the connection drops, and the kernel drops a flock when
the process's file descriptors close. So a restarted worker never waits for a time-out, while
two live holders still exclude each other, across processes and within one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Client-side TCP keepalives on the lock connection, so a half-dead network is noticed.
_PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                  "keepalives_count": 3, "connect_timeout": 10}


class HeldLock(Protocol):
    """A lock this process holds until release() (or until it dies)."""

    name: str

    def alive(self) -> bool:
        """False when the lock may have been lost (its database session ended)."""
        ...

    def release(self) -> None: ...


class LockManager(Protocol):
    def try_acquire(self, name: str) -> HeldLock | None:
        """The lock, or None at once when someone else holds it."""
        ...


class _PgLock:
    def __init__(self, name: str, connection: Any, key: int) -> None:
        self.name, self._key = name, key
        self._connection: Any = connection

    def alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:
            return False

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        except Exception:  # the session is gone, and its lock with it
            pass
        finally:
            with contextlib.suppress(Exception):
                connection.close()


class PgLocks:
    """Session advisory locks, each on its own connection: closing it (or dying) frees it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = create_engine(
            engine.url.render_as_string(hide_password=False),
            poolclass=NullPool,
            connect_args=_PG_KEEPALIVES,
        )
        self._scope: str | None = None

    def try_acquire(self, name: str) -> _PgLock | None:
        # The pool's wrapper is kept (not just the driver connection inside it): were it
        # garbage-collected, NullPool would close the connection and drop the lock.
        connection = self._engine.raw_connection()
        try:
            connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            with connection.cursor() as cursor:
                # Tests (and sites) may share one database with one schema each: the schema is
                # part of the lock's identity, as the rows it protects live there.
                cursor.execute("SELECT current_database(), current_schema()")
                scope = ":".join(str(v) for v in cursor.fetchone())
                key = _key64(f"{scope}:{name}")
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (key,))
                got = bool(cursor.fetchone()[0])
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return None
        return _PgLock(name, connection, key)


class _FileLock:
    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self._fd: int | None = fd

    def alive(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class FileLocks:
    """flock(2) on one small file per lock name, in a directory next to the SQLite database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def try_acquire(self, name: str) -> _FileLock | None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{_slug(name)}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        # For people looking at the directory: who holds it (not used for the decision).
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {name}\n".encode())
        return _FileLock(name, fd)


class _MemoryLock:
    def __init__(self, name: str, owner: MemoryLocks) -> None:
        self.name = name
        self._owner: MemoryLocks | None = owner

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            with owner.guard:
                owner.held.discard(self.name)


class MemoryLocks:
    """For an in-memory SQLite database, which only this process can see anyway."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.held: set[str] = set()

    def try_acquire(self, name: str) -> _MemoryLock | None:
        with self.guard:
            if name in self.held:
                return None
            self.held.add(name)
        return _MemoryLock(name, self)


_managers: dict[str, LockManager] = {}
_managers_guard = threading.Lock()


def locks_for(engine: Engine) -> LockManager:
    """The lock manager of this engine's database (one per database URL and process)."""
    url = engine.url.render_as_string(hide_password=False)
    with _managers_guard:
        manager = _managers.get(url)
        if manager is None:
            manager = _managers[url] = _new_manager(engine)
        return manager


def locks_for_sessions(sessions: sessionmaker[Session]) -> LockManager:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return locks_for(engine)


def _new_manager(engine: Engine) -> LockManager:
    url = make_url(engine.url.render_as_string(hide_password=False))
    if url.get_backend_name() == "postgresql":
        return PgLocks(engine)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return MemoryLocks()
        path = Path(database).resolve()
        return FileLocks(path.parent / f"{path.name}.locks")
    raise ValueError(f"no locks for database {url.get_backend_name()!r}")


def _key64(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _slug(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]
    return f"{safe}-{hashlib.blake2b(name.encode(), digest_size=6).hexdigest()}"
