"""Pytest wiring: the fixture modules under tests/fixtures."""

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
    "tests.fixtures.database",
    "tests.fixtures.pipeline",
    "tests.fixtures.oauth",
    "tests.fixtures.oidc",
]


import signal  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _sigpipe_ignored():
    """`intake.cli.main` sets SIGPIPE to default (for `intake … | head`); in this test process
    that would make a later test die silently when a server it talks to goes away."""
    yield
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
