"""Pytest wiring: the fixture modules under tests/fixtures."""

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
    "tests.fixtures.database",
    "tests.fixtures.pipeline",
    "tests.fixtures.oauth",
    "tests.fixtures.oidc",
]
