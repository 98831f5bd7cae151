"""Database engine and sessions (SQLite or PostgreSQL) and Alembic migrations."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from intake.store.masking import mask_value

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version"


class DatabaseNotReady(RuntimeError):
    """The schema is missing or older than this code: run `intake db upgrade`."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; for SQLite: WAL, a busy timeout, foreign keys, and write-locking transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        guard_personal_numbers(engine)
        return engine
    database = parsed.database
    if database and database != ":memory:":
        private_directory(Path(database).parent)
        private_files(database)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
    guard_personal_numbers(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, start transactions, so we can BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if database and database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at BEGIN: two writers then queue on busy_timeout instead of one
        # failing with "database is locked" when it upgrades a read lock (reference allocation).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def guard_personal_numbers(engine: Engine) -> None:
    """Mask national register and eID card numbers in every value written to (or looked up in)
    the database, whatever code wrote it: the last line of defence for personal numbers."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _mask(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
              _executemany: bool) -> tuple[str, Any]:
        # By shape, not by `executemany`: "insertmanyvalues" passes one mapping with it set.
        return statement, mask_value(parameters) if parameters else parameters


def private_directory(directory: Path) -> None:
    """Create the directory and its missing parents 0700, whatever the umask. A directory that
    exists is left as it is (it may be shared, like the working directory)."""
    missing = []
    for level in (directory, *directory.parents):
        if level.exists():
            break
        missing.append(level)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for level in missing:
        _tighten(level, 0o700)


def private_files(database: str) -> None:
    """The database file, its WAL and SHM: created (empty) 0600 before SQLite opens them."""
    # Never open (and close) a file SQLite may already hold: closing any descriptor of a file
    # drops every POSIX lock this process holds on it, and another process could then take the
    # WAL for unused and remove it under our open connections. Create only what is missing.
    for path in (Path(database), Path(database + "-wal"), Path(database + "-shm")):
        if not path.exists():
            if path.name.endswith(("-wal", "-shm")):
                continue  # SQLite creates these with the main file's mode (see below)
            # another process may make it meanwhile: then leave its descriptors alone
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError as exc:
        log.warning("cannot restrict permissions", extra={"path": str(path), "error": str(exc)})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic), on the given engine's database."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (Alembic), on the given engine's database."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def known_revisions() -> list[str]:
    """Every migration's revision, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database's alembic_version table (None: no schema yet)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise DatabaseNotReady(f"{VERSION_TABLE} names {len(rows)} revisions: branched schema")
    return str(rows[0][0]) if rows else None


# What the migration files declare, read as text: importing Alembic and its script directory
# took ~0.15–0.25 s of every worker start (issue 13: a restarted worker resumes within 5 s).
# tests/test_migrations.py checks that this gives Alembic's own answer.
_DECLARED = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:None|['\"]([^'\"]+)['\"])",
                       re.M)


def head_revision() -> str | None:
    """The newest migration's revision: the one no other migration names as its parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _DECLARED.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) > 1:
        raise DatabaseNotReady(f"the migrations have several heads: {', '.join(sorted(heads))}")
    return next(iter(heads), None)


def ensure_current(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the schema is at the newest migration."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseNotReady(
            f"database {where} is at revision {current or 'none'}, this code needs {head}: "
            "run `intake db upgrade`"
        )
