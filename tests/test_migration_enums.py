"""Migration 0003_i11: the enums become CHECK constraints, on SQLite and PostgreSQL, and back."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from intake.store.db import alembic_config, current_revision, make_engine, upgrade
from intake.store.enums import CaseKind, CaseStatus, Disposition, MessageKind, MessageStatus

REVISION = "0003_i11"
CASE_ROW = ("INSERT INTO \"case\" (reference, mailbox_key, year, seq, kind, status, "
            "requester_address, requester_name, language, received_at, extended, "
            "identity_status, confidence, needs_review, created_at) VALUES "
            "(:ref, 'ago', 2026, :seq, :kind, :status, 'a@example.org', '', 'nl', :at, false, "
            "'none', 0.0, false, :at)")
MESSAGE_ROW = ("INSERT INTO message (mailbox_key, folder, uidvalidity, uid, content_hash, "
               "status, received_at, from_address, from_name, subject, kind, disposition, "
               "created_at) VALUES ('ago', 'INBOX', 1, :uid, 'h', :status, :at, '', '', '', "
               ":kind, :disposition, :at)")
AT = datetime(2026, 3, 5, 9, 0)


def _downgrade(engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _case(conn, seq: int, kind: str = "request", status: str = "open") -> None:
    conn.execute(text(CASE_ROW), {"ref": f"DPO-AGO-2026-{seq:04d}", "seq": seq, "kind": kind,
                                  "status": status, "at": AT})


def _message(conn, uid: int, status="processed", kind="other", disposition="list_only") -> None:
    conn.execute(text(MESSAGE_ROW), {"uid": uid, "status": status, "kind": kind,
                                     "disposition": disposition, "at": AT})


def test_enums_match_the_migration():
    from importlib import import_module

    migration = import_module("intake.migrations.versions.0003_i11_enums")
    assert tuple(CaseKind) == migration.CASE_KIND
    assert tuple(CaseStatus) == migration.CASE_STATUS
    assert tuple(MessageStatus) == migration.MESSAGE_STATUS
    assert tuple(MessageKind) == migration.MESSAGE_KIND
    assert tuple(Disposition) == migration.DISPOSITION


def test_upgrade_keeps_data_refuses_strays_and_downgrades(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:
            _case(conn, 1)
            _message(conn, 1)
            _message(conn, 2, status="quarantined", kind=None, disposition=None)
        upgrade(engine, REVISION)
        assert current_revision(engine) == REVISION
        with engine.begin() as conn:
            _case(conn, 2, kind="to_classify")
            _message(conn, 3, disposition="to_classify")
        for bad in ({"kind": "wish"}, {"status": "pending"}):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                _case(conn, 3, **bad)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _message(conn, 4, disposition="ignore")
        _downgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        with engine.begin() as conn:  # no constraint any more
            _message(conn, 5, disposition="ignore")
        with pytest.raises(RuntimeError, match=r"message\.disposition: ignore"):
            upgrade(engine, REVISION)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM \"case\"")).scalar() == 2
    finally:
        engine.dispose()
