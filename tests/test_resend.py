"""`intake cases resend`: staff send again a reply whose delivery is uncertain — audited, once."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from intake.cli import main
from intake.outbound.outbox import flush_outbox
from intake.outbound.transport import open_transport
from intake.store.models import Event, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.casework import AGO_BOX, JAN, Inbox, write_settings

RECEIVED = datetime(2026, 3, 5, 10, tzinfo=BRUSSELS)


class Died(BaseException):
    """The sender 'dies' (kill -9) at a fault point."""


def die_before_data(point: str, _item_id: int) -> None:
    if point == "before_data":
        raise Died(point)


def test_uncertain_acknowledgement_is_resent_by_staff_once(db, pipeline, smtp_server, tmp_path,
                                                           capsys):
    reference = Inbox(db.sessions, pipeline).deliver(
        AGO_BOX, mailgen.request("objection", "nl", to=AGO_BOX.address, sender=JAN, seed=5),
        RECEIVED).case_reference
    config = str(write_settings(tmp_path, db.url))

    def flush(**kwargs):
        return flush_outbox(db.sessions, lambda: open_transport(smtp_server.settings()), 3,
                            **kwargs)

    # Killed after the envelope was accepted, just before DATA: nobody can tell any more.
    with pytest.raises(Died):
        flush(fault_hook=die_before_data)
    assert flush().uncertain == 1
    assert smtp_server.received == []

    # Nothing to resend for the wrong reply id; then staff check and resend.
    assert main(["cases", "resend", reference, "--outbox", "999", "--as", "An Staff",
                 "--config", config]) == 1
    code = main(["cases", "resend", reference, "--as", "An Staff", "--reason",
                 "not in the requester's mailbox (phoned)", "--config", config])
    out = capsys.readouterr().out
    assert code == 0 and "was uncertain" in out and "An Staff" in out
    stats = flush()
    assert stats.sent == 1
    assert len(smtp_server.wait_for(1)) == 1
    with db.sessions() as s:
        row = s.scalars(select(OutboxItem)).one()
        assert (row.status, row.attempts) == ("sent", 1)
        audit = s.scalars(select(Event).where(Event.type == "acknowledgement_resend")).one()
        assert audit.actor == "An Staff" and "phoned" in audit.reason
        assert audit.data["before"] == "uncertain"
    # Sent now: a second resend is refused, and nothing more goes out.
    assert main(["cases", "resend", reference, "--as", "An Staff", "--config", config]) == 1
    assert flush().sent == 0 and len(smtp_server.received) == 1
