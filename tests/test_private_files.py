"""The database, its WAL/SHM, the outbox spool and the state directory are private whatever
the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from intake.outbound.transport import FileTransport
from intake.store.db import make_engine, private_directory, upgrade


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_wal_and_shm_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    database = tmp_path / "state" / "lib" / "intake.db"
    tmp_path.chmod(0o755)
    with umask(0):
        engine = make_engine(f"sqlite:///{database}")
        try:
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(text("select count(*) from message"))
                wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
                assert wal.exists() and shm.exists()
                assert (mode(database), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        finally:
            engine.dispose()
    assert mode(database.parent) == 0o700 and mode(database.parent.parent) == 0o700
    # A shared directory that already existed is not changed.
    assert mode(tmp_path) == 0o755


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    engine = make_engine(f"sqlite:///{database}")
    engine.dispose()
    assert mode(database) == 0o600


def test_file_transport_spool_is_private(tmp_path: Path) -> None:
    spool = tmp_path / "outbox" / "spool"
    with umask(0):
        written = FileTransport(spool).send("dpo@example.be", ["an@example.be"],
                                            b"Subject: x\r\n\r\nbody\r\n")
    assert mode(spool) == 0o700 and mode(spool.parent) == 0o700
    assert mode(Path(written)) == 0o600


def test_state_directory_is_private(tmp_path: Path) -> None:
    with umask(0):
        private_directory(tmp_path / "var" / "state")
    assert mode(tmp_path / "var") == 0o700 and mode(tmp_path / "var" / "state") == 0o700
