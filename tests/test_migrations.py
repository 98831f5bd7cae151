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


def test_unmigrated_database_is_refused_with_the_fix(db_url):
    engine = make_engine(db_url)
    with pytest.raises(DatabaseNotReady, match="intake db upgrade"):
        ensure_current(engine)
    engine.dispose()
