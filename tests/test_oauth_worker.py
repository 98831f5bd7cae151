"""The worker on OAuth2 end to end: token expiry mid-run, a revoked/disabled app (clean error,
the reply waits and goes out once the app works again), against real Dovecot and SMTP."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from intake.config import Secret
from intake.daemon import Worker
from intake.oauth import provider_for
from intake.store.models import OutboxItem
from tests import mailgen
from tests.fixtures.oauth import CLIENT_ID
from tests.fixtures.pipeline import AGO, mailbox, make_settings
from tests.test_cli_run import RECEIVED

pytestmark = [pytest.mark.imap, pytest.mark.smtp]
USER = "dpo.test@intake.test"


def request(seed: int) -> bytes:
    return mailgen.request("erasure", "nl", to=AGO["address"], seed=seed,
                           sender=(f"Persoon {seed}", f"p{seed}@example.be"))


def settings_for(imap_oauth, smtp_server_oauth, oauth, db, imap_auth: str = "oauth2"):
    imap = (imap_oauth.imap_settings(auth="oauth2", password=Secret(), oauth2=oauth.settings())
            if imap_auth == "oauth2" else imap_oauth.imap_settings())
    smtp = smtp_server_oauth.settings(username=USER, password=Secret(), auth="oauth2",
                                      oauth2=oauth.settings())
    return make_settings(db.url, [mailbox(AGO, imap)], smtp)


def test_token_expires_mid_run(imap_oauth, smtp_server_oauth, oauth, db, pipeline):
    oauth.lifetime = 4
    settings = settings_for(imap_oauth, smtp_server_oauth, oauth, db)
    worker = Worker(settings, pipeline=pipeline)
    imap_oauth.append(request(81), msg_time=RECEIVED)
    first = worker.run_once()
    assert first.errors == {} and first.outbox.sent == 1
    provider = provider_for(settings.smtp.oauth2)
    assert provider is provider_for(settings.mailboxes[0].imap.oauth2)  # one app, one token
    assert provider.fetched == 1
    time.sleep(4.2)  # the token has expired at the authority
    imap_oauth.append(request(82), msg_time=RECEIVED)
    second = worker.run_once()
    assert second.errors == {} and second.outbox.sent == 1
    assert provider.fetched == 2
    assert [m.user for m in smtp_server_oauth.wait_for(2)] == [USER, USER]


def test_disabled_app_is_a_clean_error(imap_oauth, smtp_server_oauth, oauth, db, pipeline):
    settings = settings_for(imap_oauth, smtp_server_oauth, oauth, db)
    worker = Worker(settings, pipeline=pipeline)
    worker.run_once()
    oauth.revoke_all()
    oauth.clients[CLIENT_ID].disabled = True
    imap_oauth.append(request(83), msg_time=RECEIVED)
    report = worker.run_once()
    assert "disabled" in report.errors["ago"]
    oauth.clients[CLIENT_ID].disabled = False
    report = worker.run_once()  # the next pass works again
    assert report.errors == {} and report.outbox.sent == 1


def test_reply_waits_while_smtp_token_is_refused(imap_oauth, smtp_server_oauth, oauth, db,
                                                  pipeline):
    # IMAP with a password, SMTP with the app: only sending is affected.
    settings = settings_for(imap_oauth, smtp_server_oauth, oauth, db, imap_auth="password")
    worker = Worker(settings, pipeline=pipeline)
    oauth.clients[CLIENT_ID].disabled = True
    imap_oauth.append(request(84), msg_time=RECEIVED)
    report = worker.run_once()
    assert report.errors == {} and report.outbox.sent == 0
    assert "disabled" in (report.outbox.transport_error or "")
    with db.sessions() as s:
        (item,) = s.scalars(select(OutboxItem))
        assert item.status == "pending" and item.attempts == 0  # the mail is not at fault
    oauth.clients[CLIENT_ID].disabled = False
    report = worker.run_once()
    assert report.outbox.sent == 1 and len(smtp_server_oauth.wait_for(1)) == 1
