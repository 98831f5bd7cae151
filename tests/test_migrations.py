"""Alembic migrations: the schema they build matches the models on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from intake.store.db import (
    DatabaseNotReady,
    current_revision,
    ensure_current,
    head_revision,
    make_engine,
)
from intake.store.models import Base


def test_upgrade_reaches_head_and_matches_models(db):
    assert current_revision(db.engine) == head_revision()
    ensure_current(db.engine)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_head_read_from_the_files_is_alembics_head():
    """head_revision reads the migration files as text (a faster worker start): it must give
    what Alembic's script directory computes, whatever migrations are added later."""
    from alembic.script import ScriptDirectory

    from intake.store.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(
        alembic_config("sqlite://")).get_current_head()


def test_unmigrated_database_is_refused_with_the_fix(db_url):
    engine = make_engine(db_url)
    with pytest.raises(DatabaseNotReady, match="intake db upgrade"):
        ensure_current(engine)
    engine.dispose()


def test_migrations_round_trip_down_and_up_again(db_url):
    """upgrade → downgrade to base, one revision at a time → upgrade: the same schema again."""
    from intake.store.db import downgrade, known_revisions, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    revisions = known_revisions()
    for older in [*reversed(revisions[:-1]), "base"]:
        downgrade(engine, older)
        assert current_revision(engine) == (None if older == "base" else older)
        ours = current_revision(engine)  # a plain read of alembic_version, as Alembic reads it
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == ours
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_db_downgrade_command_refuses_an_unknown_revision(tmp_path, capsys):
    from intake.cli import main

    settings = tmp_path / "intake.toml"
    settings.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n')
    assert main(["--config", str(settings), "db", "downgrade", "nope"]) == 2
    assert "unknown revision 'nope'" in capsys.readouterr().err
